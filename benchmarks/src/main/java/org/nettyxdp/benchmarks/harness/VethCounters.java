package org.nettyxdp.benchmarks.harness;

/**
 * Where the generator's frames went, from the kernel's own counters: the host veth's per-queue
 * {@code ethtool -S} counters (frames its XDP program redirected; rx drops: frames lost on its
 * NAPI ring or whose redirect failed, e.g. AF_XDP fill ring empty or RX ring full) and the peer's {@code tx_dropped} (frames the peer could not hand over).
 */
record VethCounters(long xdpPackets, long xdpRedirect, long xdpDrops, long ringDrops, long peerTxDropped) {

    static VethCounters read(BenchHost h) {
        long xdp = 0;
        long redirect = 0;
        long xdpDrops = 0;
        long ringDrops = 0;
        for (String line : Proc.run("ethtool", "-S", h.hostIf()).split("\n")) {
            String[] kv = line.trim().split(":\\s*");
            if (kv.length != 2 || !kv[0].startsWith("rx_queue_")) {
                continue;
            }
            long v = Long.parseLong(kv[1].trim());
            if (kv[0].endsWith("_xdp_packets")) {
                xdp += v;
            } else if (kv[0].endsWith("_xdp_redirect")) {
                redirect += v;
            } else if (kv[0].endsWith("_xdp_drops")) {
                xdpDrops += v;
            } else if (kv[0].endsWith("_drops")) {
                ringDrops += v;
            }
        }
        long peerDropped = Long.parseLong(Proc.run("ip", "netns", "exec", h.ns(), "cat",
                "/sys/class/net/" + h.peerIf() + "/statistics/tx_dropped").trim());
        return new VethCounters(xdp, redirect, xdpDrops, ringDrops, peerDropped);
    }

    VethCounters minus(VethCounters o) {
        return new VethCounters(xdpPackets - o.xdpPackets, xdpRedirect - o.xdpRedirect, xdpDrops - o.xdpDrops,
                ringDrops - o.ringDrops, peerTxDropped - o.peerTxDropped);
    }

    String describe(double secs) {
        return String.format("veth per s: xdp %,.0f, redirected %,.0f, xdp drops %,.0f, rx drops (ring full or failed redirect) %,.0f,"
                + " peer tx dropped %,.0f", xdpPackets / secs, xdpRedirect / secs, xdpDrops / secs, ringDrops / secs,
                peerTxDropped / secs);
    }
}
