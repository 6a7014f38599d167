package org.nettyxdp.xsk;

import java.net.InetSocketAddress;

/**
 * The {@link InetSocketAddress} of each recent IPv6 sender (address and port), so that receiving from a
 * known peer allocates nothing per datagram, as {@link UdpFrameParser}'s IPv4 cache does. Direct-mapped
 * on a seeded hash: a miss replaces its slot, so the cache never grows, and a flood of spoofed sources
 * only evicts (each miss costs the allocation it would cost without a cache). Event-loop confined.
 */
final class Ipv6SenderCache {
    private static final int SLOTS = 4096;

    private final long[] high = new long[SLOTS];
    private final long[] low = new long[SLOTS];
    private final int[] ports = new int[SLOTS];
    private final InetSocketAddress[] senders = new InetSocketAddress[SLOTS];
    private final long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();

    /** The cached sender of address {@code high:low} (big-endian halves) and {@code port}, or null. */
    InetSocketAddress get(long high, long low, int port) {
        int i = slot(high, low, port);
        InetSocketAddress sender = senders[i];
        return sender != null && this.high[i] == high && this.low[i] == low && ports[i] == port ? sender : null;
    }

    /** Caches {@code sender} as the one of {@code high:low} and {@code port}, replacing its slot's. */
    void put(long high, long low, int port, InetSocketAddress sender) {
        int i = slot(high, low, port);
        this.high[i] = high;
        this.low[i] = low;
        ports[i] = port;
        senders[i] = sender;
    }

    private int slot(long high, long low, int port) {
        return (int) UdpFrameParser.scramble(high * 0x9E37_79B9_7F4A_7C15L ^ low ^ (long) port << 40, seed)
                & (SLOTS - 1);
    }
}
