#!/usr/bin/env bash
# Jumbo rows: 8000-byte datagrams on a veth pair with MTU 9000 (AF_XDP multi-buffer), epoll vs XDP
# (DRV, SKB), rx and echo, one short run. Creates the veth pair into a private namespace and always
# removes it. Needs root.
#
#   sudo benchmarks/run-jumbo-bench.sh                # 8000 B
#   BENCH_PAYLOAD=4000 benchmarks/run-jumbo-bench.sh
#   BENCH_ONLY=xdp_drv:echo BENCH_JVM_ARGS=-XX:StartFlightRecording=filename=jumbo.jfr,settings=profile \
#     benchmarks/run-jumbo-bench.sh                   # one row, profiled (see jfr-stages.py)
#
# Traffic never leaves the veth pair (10.251.9.0/24 between this namespace and nxb-j).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/benchmarks/bench-env.sh"
need_root run-jumbo-bench.sh
need_jdk

H=nxbjh P=nxbjp NS=nxb-j HIP=10.251.9.1 PIP=10.251.9.2
cleanup() {
  ip link del "$H" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup
ip netns add "$NS"
ip -n "$NS" link set lo up
ip link add "$H" type veth peer name "$P" netns "$NS"
ip link set "$H" mtu 9000
ip -n "$NS" link set "$P" mtu 9000
ip addr add "$HIP/24" dev "$H"
ip -n "$NS" addr add "$PIP/24" dev "$P"
ip link set "$H" up
ip -n "$NS" link set "$P" up
# static neighbours: the reply counter on the client side drops everything, ARP included
ip neigh replace "$PIP" lladdr "$(ip netns exec "$NS" cat /sys/class/net/$P/address)" dev "$H" nud permanent
ip -n "$NS" neigh replace "$HIP" lladdr "$(cat /sys/class/net/$H/address)" dev "$P" nud permanent

cd "$REPO"
CP=$(bench_classpath "$REPO")
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms512m -Xmx512m \
  -Dbench.hosts="1:$H:$P:$NS:$HIP:$PIP" -Dbench.serverCpu="${BENCH_SERVER_CPU:-0}" \
  -Dbench.loadCpu="${BENCH_LOAD_CPU:-1}" -Dbench.payload="${BENCH_PAYLOAD:-8000}" \
  -Dbench.measure="${BENCH_MEASURE:-3}" -Dbench.warmup="${BENCH_WARMUP:-1}" -Dbench.only="${BENCH_ONLY:-}" \
  ${BENCH_JVM_ARGS:-} -cp "$CP" org.nettyxdp.benchmarks.harness.JumboBench
