package org.nettyxdp.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resource exhaustion: an application that hoards every received buffer, and a write burst far beyond
 * the TX ring.
 */
class ExhaustionTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /**
     * A handler that never releases: once it holds the COPY_FALLBACK_THRESHOLD share of the UMEM
     * (half of 256 frames), datagrams arrive as copies and the fill ring keeps being refilled; nothing
     * is lost, and releasing the hoard returns every frame.
     */
    @Test
    void hoardingHandlerFallsBackToCopiesAndFramesReturnOnRelease() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Queue<DatagramPacket> hoard = new ConcurrentLinkedQueue<>();
        AtomicInteger received = new AtomicInteger();
        AtomicInteger zeroCopy = new AtomicInteger();
        AtomicBoolean hoarding = new AtomicBoolean(true);
        AtomicInteger after = new AtomicInteger();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                .option(XdpChannelOption.UMEM_FRAME_COUNT, 256)
                .option(XdpChannelOption.RING_SIZE, 64)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        DatagramPacket p = (DatagramPacket) msg;
                        if (!hoarding.get()) {
                            after.incrementAndGet();
                            p.release();
                            return;
                        }
                        if (p.content() instanceof UmemByteBuf) {
                            zeroCopy.incrementAndGet();
                        }
                        hoard.add(p);       // kept, never released (until the test does)
                        received.incrementAndGet();
                    }
                })
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive());
            InetSocketAddress target = ch.localAddress();
            int count = 5000;
            sendPaced(pair, target, count, received, 0);
            XdpChannelMetrics m = ch.metrics();
            FrameAccounting held = ch.frameAccounting()[0];
            System.out.println("hoarding: " + m + "; " + held);
            assertEquals(count, received.get(), m.toString());
            assertEquals(count, m.rxFastPackets(), "every datagram took the fast path: " + m);
            int threshold = 128;
            assertTrue(zeroCopy.get() <= threshold + 1, "zero-copy buffers beyond the threshold: " + zeroCopy);
            assertEquals(count - zeroCopy.get(), m.rxCopied(), m.toString());
            assertTrue(m.rxCopied() >= count - threshold - 1, m.toString());
            assertEquals(zeroCopy.get(), held.application(), held.toString());
            assertTrue(held.balanced(), held.toString());

            // release the hoard from this (foreign) thread: every frame comes back
            for (DatagramPacket p; (p = hoard.poll()) != null; ) {
                p.release();
            }
            // more traffic drives the reclaim of released frames; it is zero-copy again
            // (a flag, not a handler added from this thread: Netty would run that one's handlerAdded
            // on the loop later, and datagrams read before it would still reach the hoard)
            long copiedBefore = m.rxCopied();
            hoarding.set(false);
            sendPaced(pair, target, 500, after, 0);
            Thread.sleep(100);
            XdpChannelMetrics m2 = ch.metrics();
            FrameAccounting a = ch.frameAccounting()[0];
            System.out.println("after release: " + m2 + "; " + a);
            assertEquals(copiedBefore, m2.rxCopied(), "copies after the hoard was released: " + m2);
            assertEquals(0, a.application(), a.toString());
            assertTrue(a.balanced(), a.toString());
        } finally {
            for (DatagramPacket p; (p = hoard.poll()) != null; ) {
                p.release();
            }
            ch.close().sync();
        }
    }

    /** The peer namespace's SNMP counters. */
    private static Map<String, Long> peerCounters(VethPair pair) {
        Map<String, Long> c = new java.util.TreeMap<>();
        String snmp = pair.peer().exec("cat /proc/net/snmp");
        String[] lines = snmp.split("\n");
        for (int i = 0; i + 1 < lines.length; i += 2) {
            String[] names = lines[i].trim().split("\\s+");
            String[] values = lines[i + 1].trim().split("\\s+");
            for (int k = 1; k < names.length && k < values.length; k++) {
                c.put(names[0].replace(":", "") + "." + names[k], Long.parseLong(values[k]));
            }
        }
        return c;
    }

    /** {packets, dropped} sent by {@code dev}, from sysfs. */
    private static long[] txStats(String dev) throws java.io.IOException {
        java.nio.file.Path stats = java.nio.file.Path.of("/sys/class/net", dev, "statistics");
        return new long[] {
            Long.parseLong(java.nio.file.Files.readString(stats.resolve("tx_packets")).trim()),
            Long.parseLong(java.nio.file.Files.readString(stats.resolve("tx_dropped")).trim())};
    }

    /** Sends {@code count} datagrams from the peer, at most 32 ahead of what {@code received} counts. */
    private static void sendPaced(VethPair pair, InetSocketAddress target, int count, AtomicInteger received, int base)
            throws Exception {
        int start = received.get();
        pair.peer().call(() -> {
            try (DatagramChannel c = DatagramChannel.open()) {
                c.bind(new InetSocketAddress(pair.peerV4(), 0));
                ByteBuffer b = ByteBuffer.allocate(100);
                for (int i = 0; i < count; i++) {
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (i - (received.get() - start) >= 32) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError("stalled at " + i + ", received " + (received.get() - start));
                        }
                        Thread.onSpinWait();
                    }
                    b.clear();
                    b.putInt(0, base + i);
                    c.send(b, target);
                }
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (received.get() - start < count && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
            }
            return null;
        });
    }

    /**
     * 100 000 datagrams written without waiting: the channel turns unwritable, and writable again once
     * the burst drains; every write's future completes, each success is counted as sent by the channel,
     * and every TX frame comes back.
     */
    @Test
    void writeBurstBeyondTheRingTogglesWritabilityAndCompletesEveryWrite() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetSocketAddress sink = new InetSocketAddress(pair.peerV4(), 40000);
        // the receiver: a kernel socket in the peer namespace, counting what arrives
        AtomicBoolean receiving = new AtomicBoolean(true);
        AtomicLong peerReceived = new AtomicLong();
        CountDownLatch bound = new CountDownLatch(1);
        Future<?> receiver = pair.peer().submit(() -> {
            try (DatagramChannel c = DatagramChannel.open()) {
                c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 32 << 20);
                c.bind(sink);
                c.socket().setSoTimeout(200);
                bound.countDown();
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2048], 2048);
                while (receiving.get()) {
                    try {
                        c.socket().receive(p);
                        peerReceived.incrementAndGet();
                    } catch (SocketTimeoutException e) {
                        // keep waiting until told to stop
                    }
                }
            }
            return null;
        });
        assertTrue(bound.await(5, TimeUnit.SECONDS));
        AtomicInteger unwritable = new AtomicInteger();
        AtomicInteger writableAgain = new AtomicInteger();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                // a small UMEM (32 frames for TX once the fill ring has its half) and small rings: the burst
                // runs out of TX frames and slots again and again
                .option(XdpChannelOption.UMEM_FRAME_COUNT, 64)
                .option(XdpChannelOption.RING_SIZE, 64)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                        (ctx.channel().isWritable() ? writableAgain : unwritable).incrementAndGet();
                    }
                })
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive());
            // one datagram first: resolves the peer's MAC (neighbour entry) so the burst takes the fast path
            io.netty.util.concurrent.Future<?> warm = ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[8]), sink));
            warm.sync();
            Thread.sleep(200);
            long warmSent = ch.metrics().txFastPackets() + ch.metrics().txSlowPackets();
            Map<String, Long> peerBefore = peerCounters(pair);
            long[] linkBefore = txStats(pair.hostIf());

            int count = 100_000;
            List<ChannelFuture> futures = new ArrayList<>(count);
            boolean sawUnwritable = false;
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                byte[] data = new byte[64];
                data[0] = (byte) i;
                futures.add(ch.write(new DatagramPacket(Unpooled.wrappedBuffer(data), sink)));
                if ((i & 255) == 255) {
                    ch.flush();
                }
                sawUnwritable |= !ch.isWritable();
            }
            ch.flush();
            int ok = 0;
            int failed = 0;
            for (ChannelFuture f : futures) {
                if (!f.await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("a write never completed; metrics " + ch.metrics());
                }
                if (f.isSuccess()) {
                    ok++;
                } else {
                    failed++;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!ch.isWritable() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread.sleep(300);
            receiving.set(false);
            receiver.get(5, TimeUnit.SECONDS);
            Map<String, Long> peerDelta = KernelCounters.delta(peerBefore, peerCounters(pair), "Udp.");
            long[] linkAfter = txStats(pair.hostIf());
            long vethPackets = linkAfter[0] - linkBefore[0];
            long vethDropped = linkAfter[1] - linkBefore[1];
            XdpChannelMetrics m = ch.metrics();
            FrameAccounting a = ch.frameAccounting()[0];
            System.out.printf("burst: %d writes in %d ms: %d ok, %d failed; unwritable %d times, writable again %d"
                    + " times; peer received %d; host veth TX packets %d dropped %d; peer %s; %s; %s%n", count, ms,
                    ok, failed, unwritable.get(), writableAgain.get(), peerReceived.get() - 1, vethPackets,
                    vethDropped, peerDelta, m, a);
            assertEquals(count, ok + failed);
            assertEquals(ok, m.txFastPackets() + m.txSlowPackets() - warmSent, "successes = datagrams sent: " + m);
            assertTrue(sawUnwritable && unwritable.get() > 0, "the burst never made the channel unwritable");
            assertTrue(ch.isWritable(), "still unwritable after the burst drained");
            assertEquals(unwritable.get(), writableAgain.get(), "every unwritable phase ended");
            assertTrue(m.txRingFull() > 0, "the burst never found the TX ring full: " + m);
            assertEquals(0, m.kernel().txInvalidDescs(), m.toString());
            assertTrue(peerReceived.get() - 1 <= ok, "more arrived than was sent");
            // every successful write left the host and reached the peer's UDP layer, or was counted as
            // dropped on the way: by the veth (full backlog) or by UDP (InErrors, which include
            // RcvbufErrors). The peer namespace is private, so its counters are exact.
            long udpIn = peerDelta.getOrDefault("Udp.InDatagrams", 0L);
            long udpErrors = peerDelta.getOrDefault("Udp.InErrors", 0L);
            assertEquals(ok, udpIn + udpErrors + vethDropped, "sent = received + counted drops; peer " + peerDelta);
            assertEquals(peerReceived.get() - 1, udpIn, peerDelta.toString());
            assertTrue(vethPackets >= ok - vethDropped, "veth sent " + vethPackets);
            assertTrue(a.balanced(), a.toString());
            assertEquals(0, a.tx(), "TX frames not completed: " + a);
            assertEquals(0, a.application(), a.toString());
        } finally {
            receiving.set(false);
            ch.close().sync();
        }
    }

    /**
     * A burst cut short by close(): every write's future still completes (the unsent ones fail), the
     * successes match what the channel sent, and the interface is left without XDP.
     */
    @Test
    void closeDuringABurstCompletesEveryWrite() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetSocketAddress sink = new InetSocketAddress(pair.peerV4(), 40000);
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                .option(XdpChannelOption.UMEM_FRAME_COUNT, 64)
                .option(XdpChannelOption.RING_SIZE, 64)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[8]), sink)).sync();
        Thread.sleep(200);
        long warmSent = ch.metrics().txFastPackets() + ch.metrics().txSlowPackets();
        int count = 50_000;
        List<ChannelFuture> futures = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            futures.add(ch.write(new DatagramPacket(Unpooled.wrappedBuffer(new byte[64]), sink)));
            if ((i & 255) == 255) {
                ch.flush();
            }
            if (i == count / 2) {
                ch.close();
            }
        }
        ch.flush();
        ch.closeFuture().await(10, TimeUnit.SECONDS);
        int ok = 0;
        int failed = 0;
        for (ChannelFuture f : futures) {
            assertTrue(f.await(10, TimeUnit.SECONDS), "a write never completed");
            if (f.isSuccess()) {
                ok++;
            } else {
                failed++;
            }
        }
        XdpChannelMetrics m = ch.metrics();
        System.out.printf("close mid-burst: %d ok, %d failed; %s%n", ok, failed, m);
        assertEquals(count, ok + failed);
        assertTrue(failed > 0, "close failed no pending write");
        assertEquals(ok, m.txFastPackets() + m.txSlowPackets() - warmSent, m.toString());
        assertEquals("", CrashTest.xdpLines(org.nettyxdp.testing.Shell.run("ip -d link show dev " + pair.hostIf())));
    }
}
