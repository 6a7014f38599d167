#!/usr/bin/env bash
# A/B in one run: two builds (two commits, or one commit with two sets of harness options) measured
# alternately, row by row (A B A B ..., BENCH_AB_ROUNDS rounds), on the same veth hosts, so that a
# difference between them is the code's and not the machine's mood. Needs root.
#
#   sudo benchmarks/run-ab.sh f3908db main                  # two commits (anything git rev-parse takes)
#   BENCH_AB_OPTS_A=-Dbench.xdpRing=4096 benchmarks/run-ab.sh HEAD HEAD   # two option sets, one build
#
# BENCH_AB_ROWS    transport/workload rows, each its own harness run (default: echo, rx and latency of
#                  xdp_drv and epoll); BENCH_AB_ROUNDS rounds (3); BENCH_AB_OPTS_A/B extra JVM options
#                  per side; BENCH_MEASURE/BENCH_WARMUP seconds per row; BENCH_TAG/BENCH_NET as run-bench.sh.
# Each commit is checked out with `git worktree add --detach` under /tmp and built there (removed at the
# end unless BENCH_AB_KEEP=1). Every run's bench-results.json lands in ab-results/; the table
# (median and min-max per row and side, ratio B/A of the medians) is printed and written to ab-results.txt.
set -euo pipefail

OUT_DIR=$PWD
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
TAG=${BENCH_TAG:-nxb}
NET=${BENCH_NET:-251}
ROUNDS=${BENCH_AB_ROUNDS:-3}
ROWS=${BENCH_AB_ROWS:-"xdp_drv/echo epoll/echo xdp_drv/rx epoll/rx xdp_drv/latency epoll/latency"}
[ $# -eq 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
. "$REPO/benchmarks/bench-env.sh"
need_root run-ab.sh
need_jdk

SHA_A=$(git -C "$REPO" rev-parse --short "$1")
SHA_B=$(git -C "$REPO" rev-parse --short "$2")
TREES=()
. "$REPO/benchmarks/bench-hosts.sh"
trap 'cleanup; for t in "${TREES[@]}"; do git -C "$REPO" worktree remove --force "$t" 2>/dev/null || true; done' EXIT

checkout() { # sha: a worktree of it under /tmp, reused when there
  local dir=/tmp/nx-ab-$1
  if [ ! -d "$dir" ]; then
    git -C "$REPO" worktree add -q --detach "$dir" "$1"
    [ -n "${BENCH_AB_KEEP:-}" ] || TREES+=("$dir")
  fi
}
build() { # sha -> classpath
  bench_classpath "/tmp/nx-ab-$1"
}
echo "building A = $SHA_A and B = $SHA_B" >&2
checkout "$SHA_A"
checkout "$SHA_B"
CP_A=$(build "$SHA_A")
CP_B=$CP_A
[ "$SHA_B" = "$SHA_A" ] || CP_B=$(build "$SHA_B")

make_host 1 1
HOST_SPEC=${HOSTS[0]}
NICE=${BENCH_NICE:--10}
RESULTS="$OUT_DIR/ab-results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
run_one() { # side cp opts dir row
  if [ ! -e "/sys/class/net/${TAG}1h" ] || [ ! -e "/var/run/netns/${TAG}-c1" ]; then
    echo "  the test host vanished (removed by another process?): recreating it" >&2
    cleanup
    HOSTS=()
    make_host 1 1
  fi
  mkdir -p "$4"
  (cd "$4" && nice -n "$NICE" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g \
    -XX:+AlwaysPreTouch $3 -Dbench.nice="$NICE" -Dbench.hosts="$HOST_SPEC" -Dbench.serverCpu="$SERVER_CPU" \
    -Dbench.loadCpu="$LOAD_CPU" -Dbench.quick=true -Dbench.only="$5" -Dbench.measure="${BENCH_MEASURE:-3}" \
    -Dbench.warmup="${BENCH_WARMUP:-1}" -cp "$2" org.nettyxdp.benchmarks.harness.Harness > out.txt 2>&1) \
    || echo "  $1 $5 failed: see $4/out.txt" >&2
}
for round in $(seq 1 "$ROUNDS"); do
  for row in $ROWS; do
    key=${row//\//_}
    echo "round $round: $row A ($SHA_A)" >&2
    run_one A "$CP_A" "${BENCH_AB_OPTS_A:-}" "$RESULTS/A-$key-$round" "$row"
    echo "round $round: $row B ($SHA_B)" >&2
    run_one B "$CP_B" "${BENCH_AB_OPTS_B:-}" "$RESULTS/B-$key-$round" "$row"
  done
done
/usr/bin/python3 "$REPO/benchmarks/ab-report.py" "$RESULTS" "$SHA_A ${BENCH_AB_OPTS_A:-}" "$SHA_B ${BENCH_AB_OPTS_B:-}" \
  | tee "$OUT_DIR/ab-results.txt"
