package org.nettyxdp.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Echo load for {@code -Dnx.soak.seconds} (default {@value #DEFAULT_SECONDS} s; the release check runs
 * 120) with Netty's leak detector at PARANOID: an IPv4 and an IPv6 channel echo datagrams from three
 * clients in the peer namespace (small datagrams on the fast path, 3000-byte ones that fragment and
 * take the kernel path both ways, some echoes delayed so that the copy fallback kicks in). Afterwards:
 * no leak reported, heap and RSS flat, every UMEM frame back, and the counters add up (sent = echoed +
 * counted drops).
 *
 * <pre>./mvnw -pl transport-xdp verify -Dtest=SoakTest -Dnx.soak.seconds=120</pre>
 */
class SoakTest {
    static final int DEFAULT_SECONDS = 15;
    private static final int SECONDS = Integer.getInteger("nx.soak.seconds", DEFAULT_SECONDS);
    private static final int WINDOW = 32;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    /** Echoes every datagram; one in eight 5 ms later, holding its buffer meanwhile. */
    @ChannelHandler.Sharable
    private static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        final AtomicLong received = new AtomicLong();
        final AtomicLong echoed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        private final ChannelFutureListener count = f -> {
            if (f.isSuccess()) {
                echoed.incrementAndGet();
            } else {
                failed.incrementAndGet();
            }
        };

        Echo() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            long n = received.incrementAndGet();
            DatagramPacket reply = new DatagramPacket(p.content(), p.sender());
            if ((n & 7) == 0) {
                ctx.executor().schedule(() -> ctx.writeAndFlush(reply).addListener(count), 5, TimeUnit.MILLISECONDS);
            } else {
                ctx.write(reply).addListener(count);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /**
     * One client's tallies: {@code lost} echoes never came back, {@code late} ones came back after the
     * client had given up waiting (300 ms).
     */
    private record ClientStats(long sent, long received, long lost, long late, long corrupt) {
    }

    @Test
    void echoSoakWithParanoidLeakDetection() throws Exception {
        assertTrue(InternalLoggerFactory.getDefaultFactory() instanceof JdkLoggerFactory,
                "leak reports are captured from java.util.logging; Netty logs to "
                        + InternalLoggerFactory.getDefaultFactory());
        ResourceLeakDetector.Level levelBefore = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        readLogging();
        Class<?> leakLog = Class.forName(SoakTest.class.getPackageName() + ".LeakLog");
        @SuppressWarnings("unchecked")
        Supplier<List<String>> capture = (Supplier<List<String>>) leakLog.getMethod("install").invoke(null);
        EventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            soak(group, capture);
        } finally {
            leakLog.getMethod("uninstall").invoke(capture);
            ResourceLeakDetector.setLevel(levelBefore);
            group.shutdownGracefully().syncUninterruptibly();
        }
    }

    /** Before LeakLog loads: its superclass lives in java.logging, which the module does not read. */
    private static void readLogging() {
        ModuleLayer.boot().findModule("java.logging").ifPresent(SoakTest.class.getModule()::addReads);
    }

    private void soak(EventLoopGroup group, Supplier<List<String>> capture) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Echo echo = new Echo();
        XdpDatagramChannel ch4 = bind(group, echo, new InetSocketAddress(pair.hostV4(), 0));
        XdpDatagramChannel ch6 = bind(group, echo, new InetSocketAddress(pair.hostV6(), 0));
        XdpDatagramChannel[] channels = {ch4, ch6};
        ExecutorService clients = Executors.newFixedThreadPool(3);
        try {
            // first, one small and one fragmented datagram per channel: the first trip through each path
            // pays for class loading and allocator set-up (hundreds of ms on a busy machine)
            for (XdpDatagramChannel ch : channels) {
                InetSocketAddress target = ch.localAddress();
                pair.peer().call(() -> {
                    try (DatagramChannel c = DatagramChannel.open()) {
                        c.connect(target);
                        c.socket().setSoTimeout(10_000);
                        for (int len : new int[] {100, 3000}) {
                            c.write(ByteBuffer.allocate(len));
                            c.socket().receive(new java.net.DatagramPacket(new byte[4000], 4000));
                        }
                    }
                    return null;
                });
            }
            long warmRx = echo.received.get();
            Map<String, Long> peerBefore = peerUdp(pair.peer());
            long[] vethBefore = vethDrops(pair);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            List<Future<ClientStats>> futures = new ArrayList<>();
            futures.add(clients.submit(() -> client(pair, ch4.localAddress(), deadline, 1, 0)));
            futures.add(clients.submit(() -> client(pair, ch4.localAddress(), deadline, 2, 10)));
            futures.add(clients.submit(() -> client(pair, ch6.localAddress(), deadline, 3, 20)));

            // heap and RSS, sampled after a GC: first once warmed up (a fifth in), then every few seconds
            List<long[]> samples = new ArrayList<>();
            long start = System.nanoTime();
            long step = Math.max(3, SECONDS / 8);
            for (long t = Math.max(2, SECONDS / 5); t < SECONDS; t += step) {
                sleepUntil(start + TimeUnit.SECONDS.toNanos(t));
                samples.add(memory(t));
            }
            ClientStats total = new ClientStats(0, 0, 0, 0, 0);
            for (Future<ClientStats> f : futures) {
                ClientStats s = f.get(SECONDS + 60L, TimeUnit.SECONDS);
                total = new ClientStats(total.sent + s.sent, total.received + s.received, total.lost + s.lost,
                        total.late + s.late, total.corrupt + s.corrupt);
            }
            Thread.sleep(300);
            samples.add(memory(SECONDS));

            // counted drops, everywhere a datagram can be lost between the clients and back
            Map<String, Long> peerDelta = KernelCounters.delta(peerBefore, peerUdp(pair.peer()), "Udp");
            long[] vethAfter = vethDrops(pair);
            long counted = peerDelta.getOrDefault("Udp.InErrors", 0L) + peerDelta.getOrDefault("Udp6.Udp6InErrors", 0L)
                    + (vethAfter[0] - vethBefore[0]) + (vethAfter[1] - vethBefore[1]);
            long serverRx = 0;
            long serverTx = 0;
            StringBuilder report = new StringBuilder();
            for (XdpDatagramChannel ch : channels) {
                XdpChannelMetrics m = ch.metrics();
                counted += m.dropped() - m.drops().getOrDefault(DropReason.CLOSED, 0L) + m.kernel().rxDropped()
                        + m.kernel().rxRingFull() + companionDrops(ch);
                serverRx += m.rxFastPackets() + m.rxSlowPackets();
                serverTx += m.txFastPackets() + m.txSlowPackets();
                report.append("\n  ").append(ch.localAddress()).append(": ").append(m);
            }
            report.insert(0, String.format("soak %d s: clients sent %d, echoes received %d, lost %d (late %d, corrupt %d);"
                            + " server received %d, echoed %d (failed %d); counted drops %d; peer %s;"
                            + " heap used/RSS/heap committed MB by second %s; leaks %d",
                    SECONDS, total.sent, total.received, total.lost, total.late, total.corrupt, serverRx, serverTx,
                    echo.failed.get(), counted, peerDelta, format(samples), capture.get().size()));
            System.out.println(report);

            // leaks: collect garbage and allocate again, so the detector reports what it found
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(50);
                for (int k = 0; k < 100; k++) {
                    io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(64).release();
                    io.netty.buffer.PooledByteBufAllocator.DEFAULT.heapBuffer(64).release();
                }
            }
            assertEquals(List.of(), capture.get(), "leak reports\n" + report);
            assertEquals(0, total.corrupt, report.toString());
            // an echo given up on (300 ms) that still came back counts as received
            assertEquals(total.sent, total.received + total.late + total.lost, report.toString());
            assertEquals(serverRx, echo.received.get(), report.toString());
            assertEquals(total.sent, echo.received.get() - warmRx + (total.lost - counted), report.toString());
            assertEquals(echo.received.get(), echo.echoed.get() + echo.failed.get(), report.toString());
            assertEquals(0, echo.failed.get(), report.toString());
            assertEquals(serverTx, echo.echoed.get(), report.toString());
            assertEquals(total.lost, counted, "every lost datagram is counted somewhere\n" + report);
            assertTrue(total.sent > SECONDS * 1000L, "too little load: " + report);
            for (XdpDatagramChannel ch : channels) {
                for (FrameAccounting a : ch.frameAccounting()) {
                    assertTrue(a.balanced(), a.toString());
                    assertEquals(0, a.application(), a.toString());
                    assertEquals(0, a.tx(), a.toString());
                }
            }
            // flat: after warm-up, heap (after GC) and RSS grow by less than a fixed allowance
            long[] first = samples.get(0);
            long[] last = samples.get(samples.size() - 1);
            assertTrue(last[1] - first[1] < 32, "heap grew " + (last[1] - first[1]) + " MB\n" + report);
            assertTrue(last[2] - first[2] < 96, "RSS grew " + (last[2] - first[2]) + " MB\n" + report);
            assertTrue(ch4.metrics().rxCopied() + ch6.metrics().rxCopied() > 0, "copy fallback never used\n" + report);
            assertTrue(ch4.metrics().rxSlowPackets() > 0 && ch4.metrics().txSlowPackets() > 0,
                    "kernel path unused\n" + report);
        } finally {
            clients.shutdownNow();
            ch4.close().sync();
            ch6.close().sync();
        }
    }

    private static XdpDatagramChannel bind(EventLoopGroup group, ChannelHandler h, InetSocketAddress a)
            throws InterruptedException {
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(group).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                // a small share: the delayed echoes push the channel into the copy fallback now and then
                .option(XdpChannelOption.COPY_FALLBACK_THRESHOLD, 0.005)
                .handler(h)
                .bind(a).sync().channel();
        assertTrue(ch.isFastPathActive());
        return ch;
    }

    /**
     * A client in the peer namespace: keeps {@value #WINDOW} datagrams in flight, each tagged with a
     * sequence number and filled with a pattern; 1 in 20 is 3000 bytes (fragmented both ways).
     */
    private static ClientStats client(VethPair pair, InetSocketAddress server, long deadline, long seed, int bigPercentTimes10)
            throws Exception {
        NetNs.enter(pair.peer().name());
        Random random = new Random(seed);
        long sent = 0;
        long received = 0;
        long timedOut = 0;
        long late = 0;
        long corrupt = 0;
        Map<Long, Integer> outstanding = new HashMap<>();
        try (DatagramChannel c = DatagramChannel.open()) {
            c.connect(server);
            c.socket().setSoTimeout(300);
            ByteBuffer out = ByteBuffer.allocate(4000);
            java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[4000], 4000);
            long seq = 0;
            boolean draining = false;
            while (true) {
                if (!draining && System.nanoTime() > deadline) {
                    draining = true;
                }
                while (!draining && outstanding.size() < WINDOW) {
                    int len = bigPercentTimes10 > 0 && random.nextInt(1000) < bigPercentTimes10 * 5
                            ? 3000 : 16 + random.nextInt(1300);
                    out.clear();
                    out.putLong(seq);
                    for (int i = 8; i < len; i++) {
                        out.put((byte) (seq + i));
                    }
                    out.flip();
                    c.write(out);
                    outstanding.put(seq, len);
                    seq++;
                    sent++;
                }
                if (draining && outstanding.isEmpty()) {
                    break;
                }
                try {
                    c.socket().receive(in);
                } catch (SocketTimeoutException e) {
                    timedOut += outstanding.size();
                    outstanding.clear();
                    continue;
                }
                ByteBuffer b = ByteBuffer.wrap(in.getData(), 0, in.getLength());
                long s = b.getLong();
                Integer len = outstanding.remove(s);
                if (len == null) {
                    late++;
                    continue;
                }
                boolean ok = in.getLength() == len;
                for (int i = 8; ok && i < len; i++) {
                    ok = in.getData()[i] == (byte) (s + i);
                }
                if (ok) {
                    received++;
                } else {
                    corrupt++;
                    received++;
                }
            }
        }
        // what timed out and came back later was not lost
        return new ClientStats(sent, received, timedOut - late, late, corrupt);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left;
        while ((left = nanos - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }

    /** {second, heap used after GC in MB, RSS in MB, heap committed in MB}. */
    private static long[] memory(long second) throws Exception {
        System.gc();
        Thread.sleep(20);
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D+", "")) >> 10;
            }
        }
        long committed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() >> 20;
        return new long[] {second, heap, rss, committed};
    }

    private static String format(List<long[]> samples) {
        StringBuilder sb = new StringBuilder();
        for (long[] s : samples) {
            sb.append(s[0]).append("s:").append(s[1]).append('/').append(s[2]).append('/').append(s[3]).append(' ');
        }
        return sb.toString().trim();
    }

    private static Map<String, Long> peerUdp(NetNs ns) {
        Map<String, Long> c = new java.util.TreeMap<>();
        String[] lines = ns.exec("cat /proc/net/snmp").split("\n");
        for (int i = 0; i + 1 < lines.length; i += 2) {
            String[] names = lines[i].trim().split("\\s+");
            String[] values = lines[i + 1].trim().split("\\s+");
            for (int k = 1; k < names.length && k < values.length; k++) {
                c.put(names[0].replace(":", "") + "." + names[k], Long.parseLong(values[k]));
            }
        }
        for (String line : ns.exec("cat /proc/net/snmp6").split("\n")) {
            String[] kv = line.trim().split("\\s+");
            if (kv.length == 2) {
                c.put("Udp6." + kv[0], Long.parseLong(kv[1]));
            }
        }
        return c;
    }

    /** TX drops of the host end and of the peer end (each counts what it could not hand over). */
    private static long[] vethDrops(VethPair pair) throws Exception {
        long host = Long.parseLong(Files.readString(Path.of("/sys/class/net", pair.hostIf(), "statistics",
                "tx_dropped")).trim());
        long peer = Long.parseLong(pair.peer().exec("cat /sys/class/net/" + pair.peerIf() + "/statistics/tx_dropped")
                .trim());
        return new long[] {host, peer};
    }

    /** Datagrams the channel's companion socket dropped (its receive buffer was full), from {@code ss}. */
    private static long companionDrops(XdpDatagramChannel ch) {
        String out = Shell.run("ss -uamnH sport = :" + ch.localAddress().getPort());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(",d(\\d+)\\)").matcher(out);
        long d = 0;
        while (m.find()) {
            d += Long.parseLong(m.group(1));
        }
        return d;
    }
}
