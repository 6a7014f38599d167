#!/usr/bin/env bash
# The application row: the examples' codec-dns responder on NIO, epoll and XDP, loaded by dnsperf
# (Debian's dnsperf) from a private network namespace over a veth pair that this script creates and
# always removes. Needs root. Takes about two minutes with the defaults.
#
#   sudo benchmarks/run-dns-bench.sh                          # 5 rounds, nio,epoll,xdp_drv
#   BENCH_DNS_ROUNDS=3 BENCH_DNS_TRANSPORTS=xdp_drv,xdp_skb benchmarks/run-dns-bench.sh
#   BENCH_DNS_JFR=1 benchmarks/run-dns-bench.sh               # XDP only, JFR profile dns-xdp.jfr, by component
#
# Writes dns-bench-results.json to the current directory. Traffic never leaves the veth pair
# (10.252.1.0/24 between this namespace and nxd-c1).
set -euo pipefail

OUT_DIR=$PWD
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}

. "$REPO/benchmarks/bench-env.sh"
need_root run-dns-bench.sh
need_tools ip:iproute2 taskset:util-linux dnsperf:dnsperf
need_jdk

# --- test host --------------------------------------------------------------------------------
H=nxd1h P=nxd1p NS=nxd-c1 HIP=10.252.1.1 PIP=10.252.1.2
cleanup() {
  ip link del "$H" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup # leftovers of a killed run
ip netns add "$NS"
ip -n "$NS" link set lo up
ip link add "$H" numrxqueues 1 numtxqueues 1 type veth peer name "$P" numrxqueues 1 numtxqueues 1 netns "$NS"
ip addr add "$HIP/24" dev "$H"
ip -n "$NS" addr add "$PIP/24" dev "$P"
ip link set "$H" up
ip -n "$NS" link set "$P" up
# static neighbours: no query waits for ARP, none takes the kernel socket for want of a MAC
ip neigh replace "$PIP" lladdr "$(ip netns exec "$NS" cat "/sys/class/net/$P/address")" dev "$H" nud permanent
ip -n "$NS" neigh replace "$HIP" lladdr "$(cat "/sys/class/net/$H/address")" dev "$P" nud permanent

# --- build ------------------------------------------------------------------------------------
CP=$(bench_classpath "$REPO")

# --- run --------------------------------------------------------------------------------------
cd "$OUT_DIR"
TRANSPORTS=${BENCH_DNS_TRANSPORTS:-nio,epoll,xdp_drv}
JFR_ARGS=()
if [ -n "${BENCH_DNS_JFR:-}" ]; then
  TRANSPORTS=xdp_drv
  JFR_ARGS=(-XX:StartFlightRecording=filename=dns-xdp.jfr,settings=profile)
fi
NICE=${BENCH_NICE:--10}
nice -n "$NICE" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -XX:+AlwaysPreTouch \
  "${JFR_ARGS[@]}" ${BENCH_JVM_ARGS:-} \
  -Dbench.host="1:$H:$P:$NS:$HIP:$PIP" -Dbench.serverCpu="$SERVER_CPU" -Dbench.loadCpu="$LOAD_CPU" \
  -Dbench.dns.transports="$TRANSPORTS" -Dbench.dns.rounds="${BENCH_DNS_ROUNDS:-5}" \
  -Dbench.dns.seconds="${BENCH_DNS_SECONDS:-4}" -Dbench.dns.rate="${BENCH_DNS_RATE:-20000}" \
  -Dbench.dns.dnsperf="$(command -v dnsperf)" \
  -cp "$CP" org.nettyxdp.benchmarks.harness.DnsBench

if [ -n "${BENCH_DNS_JFR:-}" ]; then
  echo "hot methods of the XDP server (JFR execution samples):"
  "$JAVA_HOME/bin/jfr" view --width 160 hot-methods dns-xdp.jfr | head -25 || true
  "$JAVA_HOME/bin/jfr" print --json --stack-depth 64 --events jdk.ExecutionSample,jdk.NativeMethodSample \
    dns-xdp.jfr > dns-xdp-samples.json
  /usr/bin/python3 "$REPO/benchmarks/jfr-stages.py" dns-xdp-samples.json dns-
fi
