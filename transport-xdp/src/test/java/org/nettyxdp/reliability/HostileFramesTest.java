package org.nettyxdp.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.reliability.HostileMix.Fate;
import org.nettyxdp.reliability.HostileMix.Sample;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile frames against a listening channel: a raw {@code AF_PACKET} sender in the peer namespace
 * sends {@value #DEFAULT_SAMPLES} samples (about half valid datagrams with unique sequence numbers,
 * the rest truncated, mis-sized, mis-checksummed, fragmented, tagged, oddly typed or oversized frames,
 * see {@link HostileMix}) to two channels on the host end of a veth pair, one bound to its IPv4 and
 * one to its IPv6 address. Every valid datagram must arrive exactly once (on the fast path, or via
 * the kernel for what the program passes), no invalid one may arrive, every invalid frame the
 * program steers must be counted under its drop reason, and no UMEM frame may go missing.
 *
 * <p>{@code -Dnx.hostile.samples=N} changes the number of samples per mode.
 */
class HostileFramesTest {
    static final int DEFAULT_SAMPLES = 100_000;
    private static final int SAMPLES = Integer.getInteger("nx.hostile.samples", DEFAULT_SAMPLES);
    /** Samples sent before waiting for the channels to catch up (keeps every ring far from full). */
    private static final int WINDOW = 128;
    private static final int HOST_MTU = 3000;
    private static final int PEER_MTU = 3400;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void survivesHostileFramesInDriverMode() throws Exception {
        storm(XdpAttachMode.DRV, 1);
    }

    @Test
    void survivesHostileFramesInGenericMode() throws Exception {
        storm(XdpAttachMode.SKB, 2);
    }

    @Test
    void rawSenderCannotSendFramesShorterThanAnEthernetHeader() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        List<Integer> errors = pair.peer().call(() -> {
            List<Integer> e = new ArrayList<>();
            try (RawSender tx = new RawSender(pair.peerIf())) {
                for (int len = 0; len < 14; len++) {
                    e.add(tx.send(new byte[len]));
                }
            }
            return e;
        });
        // runts below 14 bytes never reach a device through AF_PACKET, so the mix starts at 14
        for (int len = 0; len < 14; len++) {
            assertNotEquals(0, (int) errors.get(len), len + "-byte frame was sent");
        }
        assertEquals(Errno.EINVAL, (int) errors.get(13));
    }

    private static XdpDatagramChannel bind(InetAddress ip, XdpAttachMode mode, ChannelHandler handler)
            throws InterruptedException {
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, mode)
                .handler(handler)
                .bind(new InetSocketAddress(ip, 0)).sync().channel();
        assertTrue(ch.isFastPathActive(), "fast path active for " + ip);
        return ch;
    }

    /** What the sender thread saw. */
    private record Sent(List<Sample> samples, Map<String, Integer> sendErrors) {
    }

    private void storm(XdpAttachMode mode, long seed) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Shell.run("ip link set dev " + pair.hostIf() + " mtu " + HOST_MTU);
        pair.peer().exec("ip link set dev " + pair.peerIf() + " mtu " + PEER_MTU);
        byte[] hostMac = pair.hostMac();
        byte[] peerMac = pair.peerMac();

        Recorder rec = new Recorder(SAMPLES + 16);
        XdpDatagramChannel ch4 = bind(pair.hostV4(), mode, rec.forFamily(4));
        XdpDatagramChannel ch6 = null;
        try {
            ch6 = bind(pair.hostV6(), mode, rec.forFamily(6));
            XdpDatagramChannel[] channels = {ch4, ch6};
            int chunk = ch4.config().getUmemFrameSize() - org.nettyxdp.packet.XdpPacket.XDP_PACKET_HEADROOM - ch4.config().getUmemHeadroom();
            HostileMix.Ends ends = new HostileMix.Ends(hostMac, peerMac, pair.hostV4(), pair.peerV4(),
                    pair.hostV6(), pair.peerV6(), ch4.localAddress().getPort(), ch6.localAddress().getPort());
            HostileMix mix = new HostileMix(ends, seed, PEER_MTU + 14, chunk, HOST_MTU);
            Map<String, Long> kernelBefore = KernelCounters.read();
            long t0 = System.nanoTime();

            Sent sent = pair.peer().call(() -> send(pair, mix, rec, channels));

            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            Map<String, Long> kernelDelta = KernelCounters.delta(kernelBefore, KernelCounters.read(),
                    "Err", "Csum", "Trunc", "Reasm", "Discard", "NoPorts", "Unknown", "Invalid");
            verify(sent, rec, channels, kernelDelta, elapsedMs, mode);
        } finally {
            ch4.close().sync();
            if (ch6 != null) {
                ch6.close().sync();
            }
        }
        assertEquals("", xdpOn(pair.hostIf()), "XDP left attached after close");
    }

    /** Runs on the peer namespace's thread: sends the mix window by window, waiting for the channels. */
    private Sent send(VethPair pair, HostileMix mix, Recorder rec, XdpDatagramChannel[] channels) throws Exception {
        List<Sample> samples = new ArrayList<>(SAMPLES);
        Map<String, Integer> sendErrors = new TreeMap<>();
        List<Integer> atMostOnce = new ArrayList<>();
        Map<String, Integer> slowWindows = new TreeMap<>();
        long expectedDrops = 0;
        try (RawSender tx = new RawSender(pair.peerIf())) {
            for (int base = 0; base < SAMPLES; base += WINDOW) {
                int end = Math.min(SAMPLES, base + WINDOW);
                List<Sample> window = new ArrayList<>(WINDOW);
                for (int i = base; i < end; i++) {
                    Sample s = mix.next();
                    boolean ok = true;
                    for (byte[] frame : s.frames()) {
                        // the veth refuses frames beyond its MTU with ENOBUFS each time: no point retrying those
                        int errno = tx.send(frame, s.kind().equals("v4-beyond-mtu") ? 0 : 1000);
                        if (errno != 0) {
                            sendErrors.merge(s.kind() + ": " + Errno.name(errno), 1, Integer::sum);
                            ok = false;
                        }
                    }
                    if (!ok) {
                        // not (completely) sent: it can only be lost, never delivered
                        s = new Sample(s.seq(), s.kind() + " (unsent)", Fate.KERNEL, null, s.family(), List.of());
                    }
                    Sample light = new Sample(s.seq(), s.kind(), s.fate(), s.reason(), s.family(), List.of());
                    samples.add(light);
                    window.add(light);
                    if (s.fate() == Fate.DROP) {
                        expectedDrops++;
                    } else if (s.fate() == Fate.AT_MOST_ONCE) {
                        atMostOnce.add(s.seq());
                    }
                }
                long w0 = System.nanoTime();
                awaitWindow(window, rec, channels, expectedDrops, atMostOnce, samples);
                long w = System.nanoTime() - w0;
                if (w > 20_000_000L) {
                    slowWindows.merge(w / 10_000_000L * 10 + " ms", 1, Integer::sum);
                }
            }
        }
        System.out.println("slow windows: " + slowWindows);
        return new Sent(samples, sendErrors);
    }

    private static long drops(XdpDatagramChannel[] channels) {
        long d = 0;
        for (XdpDatagramChannel ch : channels) {
            d += ch.metrics().dropped();
        }
        return d;
    }

    /**
     * Waits until every valid datagram of the window has arrived and every steered invalid frame is
     * counted (frames "at most once" count either way).
     */
    private void awaitWindow(List<Sample> window, Recorder rec, XdpDatagramChannel[] channels, long expectedDrops,
                             List<Integer> atMostOnce, List<Sample> sentSoFar) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (int spins = 0; ; spins++) {
            boolean delivered = true;
            for (Sample s : window) {
                if (s.mustDeliver() && rec.counts.get(s.seq()) == 0) {
                    delivered = false;
                    break;
                }
            }
            long amoDelivered = 0;
            for (int seq : atMostOnce) {
                amoDelivered += Math.min(1, rec.counts.get(seq));
            }
            long accounted = drops(channels) + amoDelivered;
            long expected = expectedDrops + atMostOnce.size();
            if (delivered && accounted >= expected) {
                return;
            }
            if (System.nanoTime() > deadline) {
                List<String> missing = new ArrayList<>();
                for (Sample s : window) {
                    if (s.mustDeliver() && rec.counts.get(s.seq()) == 0) {
                        missing.add(s.seq() + ":" + s.kind());
                    }
                }
                Map<DropReason, Long> expectedByReason = new EnumMap<>(DropReason.class);
                Map<String, Long> amoByKind = new TreeMap<>();
                long slowExpected = 0;
                long fastExpected = 0;
                for (Sample s : sentSoFar) {
                    if (s.fate() == Fate.DROP) {
                        expectedByReason.merge(s.reason(), 1L, Long::sum);
                    } else if (s.fate() == Fate.SLOW) {
                        slowExpected++;
                    } else if (s.fate() == Fate.FAST) {
                        fastExpected++;
                    }
                }
                List<String> droppedButDelivered = new ArrayList<>();
                for (Sample s : window) {
                    if (s.fate() == Fate.AT_MOST_ONCE && rec.counts.get(s.seq()) == 0) {
                        amoByKind.merge(s.kind(), 1L, Long::sum);
                    }
                    if (s.fate() == Fate.DROP && rec.counts.get(s.seq()) > 0) {
                        droppedButDelivered.add(s.seq() + ":" + s.kind());
                    }
                }
                fail("window stalled: missing " + missing + "; drops+amo " + accounted + " of " + expected
                        + "; drops expected so far by reason " + expectedByReason
                        + "; at-most-once frames of the window not delivered, by kind " + amoByKind
                        + "; frames to drop that were delivered " + droppedButDelivered
                        + "; datagrams expected so far on the kernel socket " + slowExpected + ", on the fast path "
                        + fastExpected
                        + "; v4 " + channels[0].metrics() + "; v6 " + channels[1].metrics());
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.sleep(0, 100_000);
            }
        }
    }

    private void verify(Sent sent, Recorder rec, XdpDatagramChannel[] channels, Map<String, Long> kernelDelta,
                        long elapsedMs, XdpAttachMode mode) throws InterruptedException {
        Map<String, int[]> perKind = new TreeMap<>();  // kind -> {sent, delivered, fast, slow}
        Map<DropReason, Long> expectedByReason = new EnumMap<>(DropReason.class);
        List<String> problems = new ArrayList<>();
        long validSent = 0;
        long validReceived = 0;
        long invalidSent = 0;
        long amoSent = 0;
        long amoDelivered = 0;
        long frames = 0;
        for (Sample s : sent.samples()) {
            int count = rec.counts.get(s.seq());
            int path = rec.paths.get(s.seq());
            int[] k = perKind.computeIfAbsent(s.kind() + " [" + s.fate() + (s.reason() != null ? " " + s.reason() : "")
                    + "]", x -> new int[4]);
            k[0]++;
            k[1] += count;
            k[2] += (path & 1);
            k[3] += (path & 2) >> 1;
            switch (s.fate()) {
                case FAST, SLOW -> {
                    validSent++;
                    validReceived += Math.min(count, 1);
                    int want = s.fate() == Fate.FAST ? 1 : 2;
                    if (count != 1 || path != want || rec.families.get(s.seq()) != s.family()) {
                        problems.add(s.seq() + ":" + s.kind() + " delivered " + count + "x, path " + path
                                + ", channel v" + rec.families.get(s.seq()));
                    }
                }
                case DROP -> {
                    invalidSent++;
                    expectedByReason.merge(s.reason(), 1L, Long::sum);
                    if (count != 0) {
                        problems.add(s.seq() + ":" + s.kind() + " (invalid) delivered " + count + "x");
                    }
                }
                case KERNEL -> {
                    invalidSent++;
                    if (count != 0) {
                        problems.add(s.seq() + ":" + s.kind() + " (invalid) delivered " + count + "x");
                    }
                }
                case AT_MOST_ONCE -> {
                    amoSent++;
                    amoDelivered += count;
                    if (count > 1) {
                        problems.add(s.seq() + ":" + s.kind() + " delivered " + count + "x");
                    }
                }
            }
        }
        Map<DropReason, Long> observedByReason = new EnumMap<>(DropReason.class);
        for (XdpDatagramChannel ch : channels) {
            ch.metrics().drops().forEach((r, n) -> {
                if (n > 0) {
                    observedByReason.merge(r, n, Long::sum);
                }
            });
        }
        long expectedDrops = expectedByReason.values().stream().mapToLong(Long::longValue).sum();
        long observedDrops = observedByReason.values().stream().mapToLong(Long::longValue).sum();
        long amoDropped = amoSent - amoDelivered;
        Map<DropReason, Long> wanted = new EnumMap<>(expectedByReason);
        if (amoDropped > 0) {
            wanted.merge(DropReason.NOT_FOR_US, amoDropped, Long::sum);
        }

        StringBuilder report = new StringBuilder();
        report.append(String.format("%s: %d samples in %d ms; valid sent %d received %d; invalid sent %d = "
                        + "dropped by channel %d + passed to kernel %d; foreign-MAC sent %d delivered %d%n",
                mode, sent.samples().size(), elapsedMs, validSent, validReceived, invalidSent,
                observedDrops - amoDropped, invalidSent - (observedDrops - amoDropped), amoSent, amoDelivered));
        report.append("  drops expected ").append(wanted).append(" observed ").append(observedByReason).append('\n');
        report.append("  kernel counters (host netns, deltas): ").append(kernelDelta).append('\n');
        report.append("  send errors: ").append(sent.sendErrors()).append('\n');
        report.append("  v4 channel: ").append(channels[0].metrics()).append('\n');
        report.append("  v6 channel: ").append(channels[1].metrics()).append('\n');
        perKind.forEach((kind, k) -> report.append(String.format("    %-58s sent %6d delivered %6d (fast %d, kernel %d)%n",
                kind, k[0], k[1], k[2], k[3])));
        System.out.println(report);

        assertEquals(List.of(), problems.subList(0, Math.min(50, problems.size())), report.toString());
        assertEquals(0, rec.garbage.get(), "untagged datagrams delivered\n" + report);
        assertEquals(validSent, validReceived, report.toString());
        assertEquals(wanted, observedByReason, "drop counters by reason\n" + report);
        assertTrue(validSent > SAMPLES / 3, "mix too thin: " + validSent + " valid of " + SAMPLES);
        for (String error : sent.sendErrors().keySet()) {
            // the veth refuses frames beyond its MTU (NET_XMIT_DROP, ENOBUFS to the sender); nothing else may fail
            assertTrue(error.startsWith("v4-beyond-mtu: "), "send error " + error + "\n" + report);
        }
        // the kernel counts its own drops of what the program passed (other traffic only adds to these)
        long badIpHeaders = kinds(sent, "v4-ihl-small", "v4-ihl-big", "v4-version", "trunc-ip4");
        assertTrue(kernelDelta.getOrDefault("Ip.InHdrErrors", 0L) >= badIpHeaders,
                "Ip.InHdrErrors < " + badIpHeaders + "\n" + report);
        long badUdp6 = kinds(sent, "v6-hbh-udpcsum");
        assertTrue(kernelDelta.getOrDefault("Udp6InCsumErrors", 0L) >= badUdp6,
                "Udp6InCsumErrors < " + badUdp6 + "\n" + report);
        for (XdpDatagramChannel ch : channels) {
            XdpChannelMetrics m = ch.metrics();
            assertEquals(0, m.kernel().rxDropped(), "kernel dropped frames: " + m);
            assertEquals(0, m.kernel().rxRingFull(), "kernel dropped frames for lack of RX ring slots: " + m);
        }
        Thread.sleep(100);
        for (XdpDatagramChannel ch : channels) {
            for (FrameAccounting a : ch.frameAccounting()) {
                assertTrue(a.balanced(), a.toString());
                assertEquals(0, a.application(), "frames still held by the application: " + a);
            }
        }
    }

    private static long kinds(Sent sent, String... kinds) {
        List<String> k = List.of(kinds);
        return sent.samples().stream().filter(s -> k.contains(s.kind())).count();
    }

    /** The XDP part of {@code ip -d link show dev name}, or "" when nothing is attached. */
    static String xdpOn(String dev) {
        String out = Shell.run("ip -d link show dev " + dev);
        StringBuilder xdp = new StringBuilder();
        for (String line : out.split("\n")) {
            if (line.contains("prog/xdp") || line.matches(".*\\bxdp(generic|drv|offload)?\\b.*")) {
                xdp.append(line.trim()).append(' ');
            }
        }
        return xdp.toString().trim();
    }
}
