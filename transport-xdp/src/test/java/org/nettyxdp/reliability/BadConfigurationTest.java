package org.nettyxdp.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpZeroCopy;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.FastPathWait;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad configuration and missing privileges: each gives one exception whose message says what is
 * wrong and what to do, and leaves no XDP program attached.
 */
class BadConfigurationTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    private static String xdp(String dev) {
        return CrashTest.xdpLines(Shell.run("ip -d link show dev " + dev));
    }

    /** Binds with {@code options} and returns the failure, asserting the channel is closed and the bind failed. */
    private static Throwable bindFails(InetSocketAddress address, Object... options) throws InterruptedException {
        Bootstrap b = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter());
        for (int i = 0; i < options.length; i += 2) {
            @SuppressWarnings("unchecked")
            ChannelOption<Object> o = (ChannelOption<Object>) options[i];
            b.option(o, options[i + 1]);
        }
        ChannelFuture f = b.bind(address).await();
        if (f.isSuccess()) {
            f.channel().close().sync();
            throw new AssertionError("bind to " + address + " succeeded");
        }
        f.channel().closeFuture().await(5000);
        assertFalse(f.channel().isOpen(), "a failed bind leaves the channel closed (Bootstrap closes on failure)");
        return f.cause();
    }

    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append(" | ");
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------ privileges

    private static List<String> asNobody() {
        return List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
    }

    @Test
    void unprivilegedUserGetsOneClearErrorAndNothingIsAttached() throws Exception {
        Assumptions.assumeTrue(Shell.tryRun("setpriv --version").exitCode() == 0, "needs setpriv (util-linux)");
        VethPair pair = HOSTS.vethPair(1);
        Path cp = Files.createTempDirectory("nx-cp-");
        try {
            String classpath = ChildJvm.worldReadableClasspath(cp);
            try (ChildJvm child = ChildJvm.start(asNobody(), classpath, List.of(), "try",
                    pair.hostV4().getHostAddress() + ":0", "mode=DRV")) {
                String error = child.await("ERROR", 30_000);
                assertEquals(2, child.waitFor(10_000), child.output());
                System.out.println("as nobody: " + error);
                assertTrue(error.contains("EPERM") && error.contains("needs root"), error);
                assertEquals(1, child.output().lines().filter(l -> l.startsWith("ERROR")).count(), child.output());
            }
            assertEquals("", xdp(pair.hostIf()));
        } finally {
            ChildJvm.deleteTree(cp);
        }
    }

    /**
     * Root without CAP_NET_RAW: the steering program attaches (CAP_BPF, CAP_NET_ADMIN), then the
     * AF_XDP socket is refused; the half-built fast path must be undone, program included.
     */
    @Test
    void missingNetRawFailsAfterAttachAndDetachesAgain() throws Exception {
        Assumptions.assumeTrue(Shell.tryRun("setpriv --version").exitCode() == 0, "needs setpriv (util-linux)");
        VethPair pair = HOSTS.vethPair(1);
        try (ChildJvm child = ChildJvm.start(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_raw"),
                "try", pair.hostV4().getHostAddress() + ":0", "mode=DRV")) {
            String error = child.await("ERROR", 30_000);
            assertEquals(2, child.waitFor(10_000), child.output());
            System.out.println("without CAP_NET_RAW: " + error);
            assertTrue(error.contains("EPERM") && error.contains("CAP_NET_RAW"), error);
        }
        assertEquals("", xdp(pair.hostIf()));
    }

    @Test
    void missingBpfCapabilitiesGiveOneClearError() throws Exception {
        Assumptions.assumeTrue(Shell.tryRun("setpriv --version").exitCode() == 0, "needs setpriv (util-linux)");
        VethPair pair = HOSTS.vethPair(1);
        try (ChildJvm child = ChildJvm.start(List.of("setpriv", "--inh-caps=-all",
                "--bounding-set=-bpf,-sys_admin,-perfmon"), "try", pair.hostV4().getHostAddress() + ":0", "mode=SKB")) {
            String error = child.await("ERROR", 30_000);
            assertEquals(2, child.waitFor(10_000), child.output());
            System.out.println("without CAP_BPF/CAP_SYS_ADMIN: " + error);
            assertTrue(error.contains("EPERM") && error.contains("CAP_BPF"), error);
        }
        assertEquals("", xdp(pair.hostIf()));
    }

    // ---------------------------------------------------------------------------- addresses

    @Test
    void unknownInterfaceWithWildcardBind() throws Exception {
        Throwable t = bindFails(new InetSocketAddress(0), XdpChannelOption.INTERFACE, "nope0");
        System.out.println("unknown interface: " + chain(t));
        assertTrue(chain(t).contains("nope0"), chain(t));
        assertTrue(chain(t).toLowerCase().contains("no such") || chain(t).toLowerCase().contains("no network"),
                chain(t));
    }

    @Test
    void addressOnNoInterface() throws Exception {
        Throwable t = bindFails(new InetSocketAddress(InetAddress.getByName("10.254.253.77"), 0));
        System.out.println("address on no interface: " + chain(t));
        assertTrue(chain(t).contains("not configured on any interface"), chain(t));
    }

    @Test
    void interfaceOptionNamingAnotherInterface() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Throwable t = bindFails(new InetSocketAddress(pair.hostV4(), 0), XdpChannelOption.INTERFACE, "lo");
        System.out.println("address of another interface: " + chain(t));
        assertTrue(chain(t).contains(pair.hostIf()) && chain(t).contains("lo"), chain(t));
        assertEquals("", xdp(pair.hostIf()));
    }

    // ------------------------------------------------------------------- queue held elsewhere

    /**
     * Another process holds the interface (its program, its queue): binding here fails with a message
     * naming the owner's attachment, in either mode, and leaves the other process's program and
     * traffic alone.
     */
    @Test
    void queueHeldByAnotherProcess() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (ChildJvm child = ChildJvm.start(List.of(), "hold", pair.hostV4().getHostAddress() + ":0", "DRV")) {
            int port = Integer.parseInt(child.await("READY", 30_000).split(" ")[1]);
            String before = xdp(pair.hostIf());
            assertFalse(before.isEmpty());

            Throwable drv = bindFails(new InetSocketAddress(pair.hostV4(), 0), XdpChannelOption.XDP_MODE,
                    XdpAttachMode.DRV);
            System.out.println("held, DRV: " + chain(drv));
            assertTrue(chain(drv).contains("already attached") && chain(drv).contains(pair.hostIf()), chain(drv));
            Throwable skb = bindFails(new InetSocketAddress(pair.hostV4(), 0), XdpChannelOption.XDP_MODE,
                    XdpAttachMode.SKB);
            System.out.println("held, SKB: " + chain(skb));
            assertTrue(chain(skb).contains(pair.hostIf()) && chain(skb).contains("xdp off"), chain(skb));

            assertEquals(before, xdp(pair.hostIf()), "the other process's program was touched");
            InetSocketAddress target = new InetSocketAddress(pair.hostV4(), port);
            assertTrue(pair.peer().call(() -> CrashTest.echoes(target)), "the other process stopped serving");
            child.kill();
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!xdp(pair.hostIf()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals("", xdp(pair.hostIf()));
    }

    // -------------------------------------------------------------------------------- options

    /** Every XDP option refuses out-of-range values at once, naming the option and the valid range. */
    @Test
    void everyOptionRejectsOutOfRangeValues() {
        XdpDatagramChannel ch = new XdpDatagramChannel();
        LOOPS.group().register(ch).syncUninterruptibly();
        try {
            List<String> messages = new ArrayList<>();
            Object[][] bad = {
                {XdpChannelOption.UMEM_FRAME_SIZE, 1000, "2048 or 4096"},
                {XdpChannelOption.UMEM_FRAME_SIZE, 8192, "2048 or 4096"},
                {XdpChannelOption.UMEM_FRAME_COUNT, 32, "power of two"},
                {XdpChannelOption.UMEM_FRAME_COUNT, 100, "power of two"},
                {XdpChannelOption.UMEM_FRAME_COUNT, -64, "power of two"},
                {XdpChannelOption.UMEM_HEADROOM, -1, "headroom"},
                {XdpChannelOption.UMEM_HEADROOM, 2048, "headroom"},
                {XdpChannelOption.RING_SIZE, 4, "RING_SIZE"},
                {XdpChannelOption.RING_SIZE, 100, "RING_SIZE"},
                {XdpChannelOption.RING_SIZE, 131072, "RING_SIZE"},
                {XdpChannelOption.COPY_FALLBACK_THRESHOLD, 0.0, "COPY_FALLBACK_THRESHOLD"},
                {XdpChannelOption.COPY_FALLBACK_THRESHOLD, 1.5, "COPY_FALLBACK_THRESHOLD"},
                {XdpChannelOption.COPY_FALLBACK_THRESHOLD, Double.NaN, "COPY_FALLBACK_THRESHOLD"},
                {XdpChannelOption.INTERFACE, "", "interface name"},
                {XdpChannelOption.INTERFACE, "sixteen-chars-xx", "interface name"},
                {ChannelOption.IP_TOS, 256, "IP_TOS"},
                {ChannelOption.IP_TOS, -1, "IP_TOS"},
            };
            for (Object[] row : bad) {
                @SuppressWarnings("unchecked")
                ChannelOption<Object> o = (ChannelOption<Object>) row[0];
                Object before = ch.config().getOption(o);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ch.config().setOption(o, row[1]), o + " = " + row[1]);
                messages.add(o + "=" + row[1] + ": " + e.getMessage());
                assertTrue(e.getMessage().contains((String) row[2]), o + " = " + row[1] + ": " + e.getMessage());
                assertTrue(e.getMessage().contains(String.valueOf(row[1])) || row[1] instanceof String,
                        "the message names the rejected value: " + e.getMessage());
                assertEquals(before, ch.config().getOption(o), "a rejected value changed " + o);
            }
            Object[][] nulls = {
                {XdpChannelOption.XDP_MODE}, {XdpChannelOption.ZERO_COPY}, {XdpChannelOption.RX_CHECKSUM},
            };
            for (Object[] row : nulls) {
                @SuppressWarnings("unchecked")
                ChannelOption<Object> o = (ChannelOption<Object>) row[0];
                Exception e = assertThrows(RuntimeException.class, () -> ch.config().setOption(o, null), o + " = null");
                messages.add(o + "=null: " + e);
            }
            messages.forEach(m -> System.out.println("  " + m));
            // valid values are kept
            assertTrue(ch.config().setOption(XdpChannelOption.ZERO_COPY, XdpZeroCopy.OFF));
            assertTrue(ch.config().setOption(XdpChannelOption.RX_CHECKSUM, RxChecksumPolicy.IGNORE));
        } finally {
            ch.close();
        }
    }

    /** Options that shape the fast path cannot change once it runs. */
    @Test
    void fastPathOptionsAreFrozenAfterBind() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive());
            Object[][] frozen = {
                {XdpChannelOption.UMEM_FRAME_SIZE, 4096}, {XdpChannelOption.UMEM_FRAME_COUNT, 1024},
                {XdpChannelOption.UMEM_HEADROOM, 64}, {XdpChannelOption.RING_SIZE, 512},
                {XdpChannelOption.XDP_MODE, XdpAttachMode.SKB}, {XdpChannelOption.ZERO_COPY, XdpZeroCopy.OFF},
                {XdpChannelOption.INTERFACE, "lo"}, {XdpChannelOption.FAST_PATH, false},
            };
            for (Object[] row : frozen) {
                @SuppressWarnings("unchecked")
                ChannelOption<Object> o = (ChannelOption<Object>) row[0];
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> ch.config().setOption(o, row[1]), o.name());
                assertTrue(e.getMessage().contains("after bind"), e.getMessage());
            }
        } finally {
            ch.close().sync();
        }
    }

    // ------------------------------------------------------------------------------------ MTU

    /**
     * A 9000-byte MTU with 2048-byte frames. The program handles multi-buffer frames, so native XDP
     * on veth takes the MTU (AUTO stays native), and in every mode frames longer than a chunk arrive
     * on the fast path as chains; the mode in effect is in the metrics. (Where the kernel refuses
     * multi-buffer, DRV fails saying what to do and longer frames take the kernel path: not testable
     * on a kernel that supports it.)
     */
    @Test
    void jumboMtuWithSmallFrames() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Shell.run("ip link set dev " + pair.hostIf() + " mtu 9000");
        pair.peer().exec("ip link set dev " + pair.peerIf() + " mtu 9000");

        for (XdpAttachMode mode : new XdpAttachMode[] {XdpAttachMode.DRV, XdpAttachMode.AUTO, XdpAttachMode.SKB}) {
            AtomicInteger small = new AtomicInteger();
            AtomicInteger large = new AtomicInteger();
            XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .option(XdpChannelOption.XDP_MODE, mode)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            io.netty.channel.socket.DatagramPacket p = (io.netty.channel.socket.DatagramPacket) msg;
                            (p.content().readableBytes() > 2000 ? large : small).incrementAndGet();
                            p.release();
                        }
                    })
                    .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
            try {
                // the queue the previous mode's channel left may still be busy for a moment
                FastPathWait.awaitFastPath(ch, mode + ": fast path");
                boolean generic = mode == XdpAttachMode.SKB;
                assertTrue(xdp(pair.hostIf()).contains(generic ? "xdpgeneric" : " xdp "), mode + ": " + xdp(pair.hostIf()));
                assertEquals(generic ? XdpAttachMode.SKB : XdpAttachMode.DRV, ch.metrics().modes().attachMode());
                assertTrue(ch.metrics().modes().multiBuffer(), ch.metrics().modes().toString());
                InetSocketAddress target = ch.localAddress();
                // one of each first, awaited: the first datagrams pay for class loading and allocator
                // set-up (hundreds of ms on a busy machine), long enough to overflow the companion
                // socket's buffer with 8000-byte datagrams
                pair.peer().call(() -> {
                    try (DatagramChannel c = DatagramChannel.open()) {
                        c.send(ByteBuffer.allocate(100), target);
                        c.send(ByteBuffer.allocate(8000), target);
                    }
                    return null;
                });
                long warm = System.nanoTime() + 10_000_000_000L;
                while ((small.get() < 1 || large.get() < 1) && System.nanoTime() < warm) {
                    Thread.sleep(5);
                }
                small.set(0);
                large.set(0);
                var m0 = ch.metrics();
                pair.peer().call(() -> {
                    try (DatagramChannel c = DatagramChannel.open()) {
                        for (int i = 0; i < 200; i++) {
                            c.send(ByteBuffer.allocate(i % 2 == 0 ? 100 : 8000), target);
                            Thread.sleep(0, 200_000);
                        }
                    }
                    return null;
                });
                long deadline = System.nanoTime() + 5_000_000_000L;
                while ((small.get() < 100 || large.get() < 100) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                var m = ch.metrics();
                System.out.println("MTU 9000, " + mode + ": small " + small + ", large " + large + "; " + m);
                assertEquals(100, small.get(), m.toString());
                assertEquals(100, large.get(), m.toString());
                assertEquals(200, m.rxFastPackets() - m0.rxFastPackets(), m.toString());
                assertEquals(100, m.rxMultiBuffer() - m0.rxMultiBuffer(), "8000-byte datagrams arrived as chains: " + m);
            } finally {
                ch.close().sync();
            }
            assertEquals("", xdp(pair.hostIf()));
        }
    }
}
