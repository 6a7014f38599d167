#!/usr/bin/env bash
# Transport comparison: NIO, epoll, io_uring, XDP (DRV), XDP (SKB) UDP servers against one AF_XDP load
# generator, with the XDP_DROP and kernel-socket ceilings, on veth pairs into private network
# namespaces that this script creates and always removes. Needs root. Takes a few minutes.
#
#   sudo benchmarks/run-bench.sh            # full run
#   BENCH_QUICK=1 benchmarks/run-bench.sh   # 64 B only
#
# Writes bench-results.json and bench-results.png to the current directory. Traffic never leaves
# the veth pairs (10.251.1.0/24 and 10.251.2.0/24 between this namespace and nxb-c1 / nxb-c2;
# BENCH_TAG and BENCH_NET change the names and the 251).
set -euo pipefail

OUT_DIR=$PWD
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER_CPU=${BENCH_SERVER_CPU:-0}
# names and subnet of the veths and namespaces: change them to run beside another run of this script
TAG=${BENCH_TAG:-nxb}
NET=${BENCH_NET:-251}
LOAD_CPU=${BENCH_LOAD_CPU:-1}

. "$REPO/benchmarks/bench-env.sh"
need_root run-bench.sh
need_tools ip:iproute2 taskset:util-linux ethtool:ethtool python3.matplotlib:python3-matplotlib
need_jdk

# --- test hosts (bench-hosts.sh: make_host, cleanup, HOSTS) ----------------------------------
. "$REPO/benchmarks/bench-hosts.sh"
make_host 1 1
make_host 2 2

# --- build ------------------------------------------------------------------------------------
CP=$(bench_classpath "$REPO")

# --- run --------------------------------------------------------------------------------------
cd "$OUT_DIR"
HOST_SPEC=$(IFS=';'; echo "${HOSTS[*]}")
# The JVM and the veths' NAPI threads run at nice $NICE: on a shared machine this keeps other
# processes from taking the pinned CPUs away mid-measurement (BENCH_NICE=0 to turn off).
NICE=${BENCH_NICE:--10}
nice -n "$NICE" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -XX:+AlwaysPreTouch \
  ${BENCH_JVM_ARGS:-} \
  -Dbench.nice="$NICE" -Dbench.hosts="$HOST_SPEC" -Dbench.serverCpu="$SERVER_CPU" -Dbench.loadCpu="$LOAD_CPU" \
  -Dbench.quick="${BENCH_QUICK:+true}" -Dbench.only="${BENCH_ONLY:-}" -Dbench.measure="${BENCH_MEASURE:-3}" -Dbench.warmup="${BENCH_WARMUP:-1}" \
  -cp "$CP" org.nettyxdp.benchmarks.harness.Harness

/usr/bin/python3 "$REPO/benchmarks/plot-bench.py" bench-results.json bench-results.png \
  || echo "plot failed (python3-matplotlib missing?)"
