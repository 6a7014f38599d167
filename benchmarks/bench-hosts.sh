# Sourced by run-bench.sh and run-ab.sh (after bench-env.sh): veth pairs into private namespaces, removed on exit.
# Needs TAG and NET (names and 10.NET.x.0/24 subnets); fills HOSTS with the harness's host specs.
# --- test hosts -------------------------------------------------------------------------------
HOSTS=()
cleanup() {
  for i in 1 2; do
    ip link del "${TAG}${i}h" 2>/dev/null || true
    ip netns del "${TAG}-c${i}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup # leftovers of a killed run

make_host() { # index queues
  local i=$1 q=$2 h="${TAG}${1}h" p="${TAG}${1}p" ns="${TAG}-c${1}"
  local hip="10.${NET}.${i}.1" pip="10.${NET}.${i}.2"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$h" numrxqueues "$q" numtxqueues "$q" type veth peer name "$p" numrxqueues "$q" numtxqueues "$q" netns "$ns"
  ip addr add "$hip/24" dev "$h"
  ip -n "$ns" addr add "$pip/24" dev "$p"
  ip link set "$h" up
  ip -n "$ns" link set "$p" up
  local hmac pmac
  hmac=$(cat "/sys/class/net/$h/address")
  pmac=$(ip netns exec "$ns" cat "/sys/class/net/$p/address")
  # static neighbours: the counters on the client side drop everything, ARP included
  ip neigh replace "$pip" lladdr "$pmac" dev "$h" nud permanent
  ip -n "$ns" neigh replace "$hip" lladdr "$hmac" dev "$p" nud permanent
  # GRO on gives every veth end a NAPI instance (without it only an XDP program does), and threaded
  # NAPI makes that poller a kthread (napi/IF-N) the harness pins: the kernel's RX work then runs in
  # the same, stated place for every transport, not in whichever thread's softirq happened to send.
  # TSO off on both ends: veth hands a frame to the receiver's NAPI only when the sender has no TSO
  # (veth_skb_is_eligible_for_gro), else it goes through netif_rx and the receiver's stack runs in the
  # sender's softirq. An XDP program strips the peer's TSO by itself; without this, a kernel socket's
  # RX work would run on the generator's CPU and XDP's in the NAPI thread, wherever the row pins it.
  ethtool -K "$h" gro on tso off >/dev/null
  ip netns exec "$ns" ethtool -K "$p" gro on tso off >/dev/null
  echo 1 > "/sys/class/net/$h/threaded"
  ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/$p/threaded"
  HOSTS+=("$q:$h:$p:$ns:$hip:$pip")
}

