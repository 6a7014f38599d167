package org.nettyxdp.reliability;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.ETH_IPV4;
import static org.nettyxdp.testing.Frames.UDP;
import static org.nettyxdp.testing.Frames.eth;
import static org.nettyxdp.testing.Frames.ipv4;
import static org.nettyxdp.testing.Frames.udp;
import static org.nettyxdp.testing.Frames.udpChecksum;

/**
 * New sources cost the event loop nothing that blocks: an echo server on the fast path answers a
 * legitimate client while {@value #FLOOD} frames arrive from random spoofed sources, each a destination
 * whose next hop is not cached, sent at {@value #RATE} frames/s. Replies to the spoofed sources
 * (a /15 of 100.64.0.0/10 no other test JVM routes now, routed via the peer namespace, which drops
 * them) never leave the test's namespaces.
 *
 * <p>The figure: the client's round-trip p99 under the flood of new sources against its p99 under a
 * flood of the same volume and rate from one source (whose next hop is cached), the same packet load,
 * so the difference is what new sources cost. Rounds alternate (one source, new sources, ...,
 * {@value #ROUNDS} of each, the new-source rounds sharing the {@value #FLOOD} frames) so that the
 * VM's noise hits both sides alike; the median p99 of each side, its spread and their ratio are
 * printed with PASS/MISS against the target of 2, never asserted (a timing is not a unit test). So is
 * how the flood's replies left: on the fast path (a next hop from the routing-table mirror, built on
 * the event loop) or on the kernel socket.
 *
 * <p>Asserted: the client loses no answers (a blocked loop would cost it timeouts), the fast path stays
 * active, and the replies to new sources take the fast path (their route's answer is learnt once).
 */
class SpoofedSourceFloodTest {
    static final int FLOOD = Integer.getInteger("nx.flood.frames", 300_000);
    /** Flood frames per second. */
    static final int RATE = Integer.getInteger("nx.flood.rate", 20_000);
    /** Rounds of each kind. */
    static final int ROUNDS = Integer.getInteger("nx.flood.rounds", 3);
    private static final int PINGS = 500;
    private static final long TIMEOUT_MS = 200;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** One round's client RTTs and how the server's replies left meanwhile. */
    private record Round(long[] rtts, long txFast, long txSlow, long rxRingFull) {
        long p99() {
            return percentile(rtts, 0.99);
        }
    }

    @Test
    void floodOfNewSourcesDoesNotSlowALegitimateClient() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        // the route lives in the host's namespace, next to other test JVMs: take a /15 none of them routes
        int second = -1;
        for (int k = 0, first = (int) (ProcessHandle.current().pid() % 32); k < 32 && second < 0; k++) {
            int candidate = 64 + 2 * ((first + k) % 32);
            if (Shell.tryRun("ip route add 100." + candidate + ".0.0/15 via " + pair.peerV4().getHostAddress()
                    + " dev " + pair.hostIf()).exitCode() == 0) {
                second = candidate;
            }
        }
        Assumptions.assumeTrue(second >= 0, "every /15 of 100.64.0.0/10 is routed by another test");
        int net = second;
        byte[] hostMac = pair.hostMac();
        byte[] peerMac = pair.peerMac();
        XdpDatagramChannel server = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class).handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(server.isFastPathActive());
            int port = server.localAddress().getPort();
            byte[] dst = pair.hostV4().getAddress();
            Random random = new Random(42);
            byte[][] oneSource = new byte[4096][];
            byte[] fixed = {100, (byte) net, 0, 1};
            for (int i = 0; i < oneSource.length; i++) {
                oneSource[i] = frame(hostMac, peerMac, fixed, dst, port, i);
            }
            byte[][] newSources = new byte[FLOOD][];
            for (int i = 0; i < FLOOD; i++) {
                byte[] src = {100, (byte) (net + random.nextInt(2)), (byte) random.nextInt(256),
                        (byte) (1 + random.nextInt(254))};
                newSources[i] = frame(hostMac, peerMac, src, dst, port, i);
            }
            int perRound = FLOOD / ROUNDS;
            // warm up the path (and the one flood source's next hop)
            measure(pair, server, i -> oneSource[i % oneSource.length], 20_000, 300);

            List<Round> base = new ArrayList<>();
            List<Round> flood = new ArrayList<>();
            for (int r = 0; r < ROUNDS; r++) {
                base.add(measure(pair, server, i -> oneSource[i % oneSource.length], perRound, PINGS));
                int offset = r * perRound;
                flood.add(measure(pair, server, i -> newSources[offset + i], perRound, PINGS));
            }
            long[] baseP99 = base.stream().mapToLong(Round::p99).toArray();
            long[] floodP99 = flood.stream().mapToLong(Round::p99).toArray();
            long medBase = percentile(baseP99, 0.5);
            long medFlood = percentile(floodP99, 0.5);
            long fast = flood.stream().mapToLong(Round::txFast).sum();
            long slow = flood.stream().mapToLong(Round::txSlow).sum();
            long pings = flood.stream().mapToLong(x -> x.rtts().length).sum();
            String figures = String.format("client RTT p99 under a flood at %d frames/s, %d rounds of %d frames each"
                            + " (interleaved): one source median %d us (%d-%d), new sources median %d us (%d-%d);"
                            + " ratio of medians %.2f (target <= 2: %s); replies during the new-source rounds (the flood's"
                            + " and the client's %d): %d on the fast path, %d on the kernel socket; RX ring overflows"
                            + " %d and %d;"
                            + " p99s one source %s us, new sources %s us",
                    RATE, ROUNDS, perRound, medBase / 1000, min(baseP99) / 1000, max(baseP99) / 1000,
                    medFlood / 1000, min(floodP99) / 1000, max(floodP99) / 1000, (double) medFlood / medBase,
                    medFlood <= 2 * medBase ? "PASS" : "MISS", pings, fast, slow,
                    base.stream().mapToLong(Round::rxRingFull).sum(), flood.stream().mapToLong(Round::rxRingFull).sum(),
                    Arrays.toString(Arrays.stream(baseP99).map(x -> x / 1000).toArray()),
                    Arrays.toString(Arrays.stream(floodP99).map(x -> x / 1000).toArray()));
            System.out.println(figures);
            // What this test asserts: a flood of new sources never blocks the event loop on next-hop
            // resolution: the legitimate client keeps its answers (a stalled loop would cost it timeouts),
            // and the replies to the new sources leave on the fast path (the routing-table mirror gives
            // their next hop on the event loop). The p99 ratio is printed, not asserted.
            for (Round r : flood) {
                assertTrue(lost(r.rtts()) <= r.rtts().length / 100, "the legitimate client lost answers: " + figures);
            }
            assertTrue(slow < (fast + slow) / 20, "replies to new sources took the kernel socket: " + figures);
            assertTrue(server.isFastPathActive(), figures);
        } finally {
            server.close().sync();
        }
    }

    private static long min(long[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static long max(long[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    /** RTTs that are the timeout: answers the client never got. */
    private static long lost(long[] rtts) {
        long n = 0;
        for (long rtt : rtts) {
            if (rtt >= TIMEOUT_MS * 1_000_000L) {
                n++;
            }
        }
        return n;
    }

    interface Frames {
        byte[] frame(int i);
    }

    /**
     * Sends {@code count} flood frames from the peer while a client in the peer namespace pings the
     * server, at least {@code pings} times and until the flood is over; returns the RTTs (ns, a lost
     * reply counts as the timeout) and the server's replies meanwhile, by path.
     */
    private static Round measure(VethPair pair, XdpDatagramChannel server, Frames flood, int count, int pings)
            throws Exception {
        XdpChannelMetrics before = server.metrics();
        AtomicBoolean floodDone = new AtomicBoolean();
        InetSocketAddress target = server.localAddress();
        DatagramSocket client = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)));
        long[][] result = new long[1][];
        Thread pinger = new Thread(() -> {
            long[] rtt = new long[Math.max(pings, 2 * count)];
            int n = 0;
            try {
                client.setSoTimeout((int) TIMEOUT_MS);
                byte[] buf = new byte[64];
                for (int i = 0; n < rtt.length && (i < pings || !floodDone.get()); i++) {
                    byte[] ping = ("ping " + i).getBytes();
                    long t0 = System.nanoTime();
                    client.send(new java.net.DatagramPacket(ping, ping.length, target));
                    long t = TIMEOUT_MS * 1_000_000L;
                    while (true) {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                        try {
                            client.receive(p);
                        } catch (SocketTimeoutException e) {
                            break;
                        }
                        if (new String(p.getData(), 0, p.getLength()).equals("ping " + i)) {
                            t = System.nanoTime() - t0;
                            break;
                        }
                    }
                    rtt[n++] = t;
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            result[0] = Arrays.copyOf(rtt, n);
        }, "pinger");
        try {
            pinger.start();
            pair.peer().call(() -> {
                try (RawSender tx = new RawSender(pair.peerIf())) {
                    long start = System.nanoTime();
                    for (int i = 0; i < count; i++) {
                        tx.send(flood.frame(i), 10);
                        if ((i & 63) == 63) {
                            // paced: a steady flood the server can absorb, not a CPU contest
                            long due = start + (i + 1) * 1_000_000_000L / RATE;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(wait);
                            }
                        }
                    }
                }
                return null;
            });
            floodDone.set(true);
            pinger.join();
        } finally {
            floodDone.set(true);
            client.close();
        }
        XdpChannelMetrics after = server.metrics();
        return new Round(result[0], after.txFastPackets() - before.txFastPackets(),
                after.txSlowPackets() - before.txSlowPackets(),
                after.kernel().rxRingFull() - before.kernel().rxRingFull());
    }

    static long percentile(long[] values, double p) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p * s.length) - 1)];
    }

    static byte[] frame(byte[] hostMac, byte[] peerMac, byte[] src, byte[] dst, int port, int i) {
        byte[] payload = {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i, 1, 2, 3, 4};
        byte[] u = udpChecksum(udp(40000 + (i & 0xfff), port, payload), src, dst);
        return eth(hostMac, peerMac, ETH_IPV4, ipv4(src, dst, UDP, i & 0xffff, 0x4000, new byte[0], u));
    }
}
