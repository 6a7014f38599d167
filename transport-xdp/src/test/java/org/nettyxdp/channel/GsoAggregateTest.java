package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SockAddr;
import org.nettyxdp.sys.Syscalls;
import org.nettyxdp.testing.Collector;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer sending with UDP GSO ({@code UDP_SEGMENT}) over a veth: in generic mode the steering program
 * sees the peer's aggregate as one frame longer than the MTU and passes it to the kernel, so the
 * channel receives exactly the segments a kernel socket ({@code FAST_PATH} off) receives, sizes and
 * contents, in order; datagrams within the MTU stay on the fast path. In native mode (the control) the
 * kernel segments before the veth and every segment takes the fast path. The steering limit follows
 * an MTU raise.
 */
class GsoAggregateTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    private static final int SOL_UDP = 17;
    private static final int UDP_SEGMENT = 103;

    /** {segment size, payload length} of each send: GSO aggregates above the MTU, then plain datagrams. */
    private static final int[][] SENDS = {{1400, 60_200}, {1000, 2_500}, {1400, 1_400}, {0, 1_200}};
    /** Aggregated sends' segments (43 + 3) and the plain datagrams (2). */
    private static final int SEGMENTS = 46;
    private static final int PLAIN = 2;

    @Test
    void genericModeDeliversTheSegmentsOfAnAggregate() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Fixture f = new Fixture(pair, XdpAttachMode.SKB);
        try {
            String features = pair.peer().exec("ethtool -k " + pair.peerIf());
            assertTrue(features.contains("tx-udp-segmentation: on"),
                    "the peer hands the veth aggregates (else nothing is tested): " + features);
            List<String> fast = f.exchange();
            XdpChannelMetrics m = f.xdp.eventLoop().submit(f.xdp::metrics).get();
            assertEquals(f.kernelReceived, fast, "what a kernel socket receives");
            assertEquals(SEGMENTS + PLAIN, fast.size(), fast.toString());
            assertEquals(SEGMENTS, m.rxSlowPackets(), "aggregates through the kernel, as segments: " + m);
            assertEquals(PLAIN, m.rxFastPackets(), "datagrams within the MTU on the fast path: " + m);
            assertEquals(0, m.dropped(), m.toString());
            MultiBufferTest.assertBalanced(f.xdp);
        } finally {
            f.close();
        }
    }

    @Test
    void nativeModeControlTakesEverySegmentOnTheFastPath() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Fixture f = new Fixture(pair, XdpAttachMode.DRV);
        try {
            List<String> fast = f.exchange();
            XdpChannelMetrics m = f.xdp.eventLoop().submit(f.xdp::metrics).get();
            assertEquals(f.kernelReceived, fast, "what a kernel socket receives");
            assertEquals(SEGMENTS + PLAIN, m.rxFastPackets(), "segments arrive one by one: " + m);
            assertEquals(0, m.rxSlowPackets(), m.toString());
            assertEquals(0, m.dropped(), m.toString());
            MultiBufferTest.assertBalanced(f.xdp);
        } finally {
            f.close();
        }
    }

    /**
     * The steering limit follows the MTU both ways: raised to 9000, a 5 000-byte datagram (passed to
     * the kernel while the limit is 1500 + the Ethernet header) takes the fast path once the change is
     * followed; lowered to 1500 again, an aggregate of 3 x 1 400 bytes (within the 9000 limit: one
     * datagram on the fast path) arrives as its three segments once followed.
     */
    @Test
    void steeringLimitFollowsTheMtu() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Fixture f = new Fixture(pair, XdpAttachMode.SKB);
        try {
            setMtu(pair, 9000);
            InetSocketAddress target = f.xdp.localAddress();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int sent = 0;
            XdpChannelMetrics m;
            do {
                pair.peer().call(() -> send(pair, target, new int[][] {{0, 5_000}}));
                sent++;
                assertNotNull(f.fastReceived.poll(2, TimeUnit.SECONDS), "datagram " + sent + " received");
                m = f.xdp.eventLoop().submit(f.xdp::metrics).get();
            } while (m.rxFastPackets() == 0 && System.nanoTime() < deadline);
            assertEquals(1, m.rxFastPackets(), "the jumbo datagram on the fast path after the MTU raise: " + m);
            assertEquals(sent - 1, m.rxSlowPackets(), m.toString());

            setMtu(pair, 1500);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String first;
            do {
                pair.peer().call(() -> send(pair, target, new int[][] {{1400, 4_200}}));
                first = f.fastReceived.poll(2, TimeUnit.SECONDS);
                assertNotNull(first, "aggregate received");
            } while (first.startsWith("4200:") && System.nanoTime() < deadline);
            assertTrue(first.startsWith("1400:"), "segments after the MTU is lowered: " + first);
            for (int i = 0; i < 2; i++) {
                String next = f.fastReceived.poll(2, TimeUnit.SECONDS);
                assertNotNull(next, "segment " + (i + 2));
                assertTrue(next.startsWith("1400:"), next);
            }
            assertEquals(null, f.fastReceived.poll(200, TimeUnit.MILLISECONDS), "nothing more");
            MultiBufferTest.assertBalanced(f.xdp);
        } finally {
            f.close();
        }
    }

    private static void setMtu(VethPair pair, int mtu) {
        Shell.run("ip link set " + pair.hostIf() + " mtu " + mtu);
        pair.peer().exec("ip link set " + pair.peerIf() + " mtu " + mtu);
    }

    /** An XDP channel and a kernel-only one on the host side of {@code pair}. */
    private static final class Fixture {
        final VethPair pair;
        final Collector fastCollector = new Collector(GsoAggregateTest::describe);
        final Collector kernelCollector = new Collector(GsoAggregateTest::describe);
        final java.util.concurrent.BlockingQueue<String> fastReceived = fastCollector.received;
        final XdpDatagramChannel xdp;
        final Channel kernel;
        final List<String> kernelReceived = new ArrayList<>();

        Fixture(VethPair pair, XdpAttachMode mode) throws Exception {
            this.pair = pair;
            xdp = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .option(XdpChannelOption.XDP_MODE, mode)
                    .handler(fastCollector)
                    .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
            kernel = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .option(XdpChannelOption.FAST_PATH, false)
                    .handler(kernelCollector)
                    .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
            assertTrue(xdp.isFastPathActive(), "fast path on " + pair.hostIf());
            assertEquals(mode, xdp.metrics().modes().attachMode(), xdp.metrics().modes().toString());
        }

        /** Sends {@link #SENDS} to both channels; returns what the XDP one received (the kernel's: kernelReceived). */
        List<String> exchange() throws Exception {
            InetSocketAddress fastTarget = xdp.localAddress();
            InetSocketAddress kernelTarget = (InetSocketAddress) kernel.localAddress();
            pair.peer().call(() -> send(pair, kernelTarget, SENDS));
            pair.peer().call(() -> send(pair, fastTarget, SENDS));
            List<String> fast = new ArrayList<>();
            for (int i = 0; i < SEGMENTS + PLAIN; i++) {
                String k = kernelCollector.received.poll(5, TimeUnit.SECONDS);
                assertNotNull(k, "kernel socket datagram " + i + " of " + (SEGMENTS + PLAIN));
                kernelReceived.add(k);
            }
            // whatever else arrives (one aggregate instead of its segments) is compared below
            String s;
            while ((s = fastCollector.received.poll(fast.size() < SEGMENTS + PLAIN ? 5 : 0, TimeUnit.SECONDS))
                    != null) {
                fast.add(s);
            }
            assertEquals(null, kernelCollector.received.poll(200, TimeUnit.MILLISECONDS), "nothing more");
            return fast;
        }

        void close() throws InterruptedException {
            xdp.close().sync();
            kernel.close().sync();
        }
    }

    /** A datagram's length and CRC-32. */
    private static String describe(DatagramPacket p) {
        byte[] b = new byte[p.content().readableBytes()];
        p.content().getBytes(p.content().readerIndex(), b);
        CRC32 crc = new CRC32();
        crc.update(b);
        return b.length + ":" + Long.toHexString(crc.getValue());
    }

    /**
     * Sends each {segment size, length} of {@code sends} from the peer with {@code UDP_SEGMENT} set to
     * the segment size (0: unset) through a raw socket (a {@code DatagramChannel} cannot set it).
     */
    private static Void send(VethPair pair, InetSocketAddress target, int[][] sends) throws Exception {
        int fd = Syscalls.socket(Linux.AF_INET, Linux.SOCK_DGRAM, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment local = arena.allocate(SockAddr.STORAGE_SIZE);
            Syscalls.bind(fd, local, SockAddr.write(local, new InetSocketAddress(pair.peerV4(), 0), false), "UDP");
            MemorySegment to = arena.allocate(SockAddr.STORAGE_SIZE);
            int toLen = SockAddr.write(to, target, false);
            MemorySegment buf = arena.allocate(65_536);
            for (int s = 0; s < sends.length; s++) {
                int len = sends[s][1];
                for (int i = 0; i < len; i++) {
                    buf.set(JAVA_BYTE, i, (byte) (s * 31 + i * 7 + i / 997));
                }
                Syscalls.setsockopt(fd, SOL_UDP, UDP_SEGMENT, sends[s][0], "UDP_SEGMENT");
                long sent = Syscalls.sendtoRaw(fd, buf, len, 0, to, toLen);
                assertEquals(len, sent, "sendto of " + len + " bytes (segments of " + sends[s][0] + ")");
            }
        } finally {
            Syscalls.close(fd);
        }
        return null;
    }
}
