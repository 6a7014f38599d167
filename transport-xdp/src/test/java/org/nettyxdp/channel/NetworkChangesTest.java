package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast path follows the network while it serves: a client in the peer namespace sends numbered
 * datagrams without pause to an echo server on the host end of a veth pair while the test changes
 * the link, its addresses, neighbours, MTU, program or queues. After each change and a settle time
 * of {@value #SETTLE_MILLIS} ms, every datagram sent must be echoed (0 lost), each exactly as sent,
 * and the fast path (not only the kernel socket) must be serving again where it should.
 */
class NetworkChangesTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** How long after a change every datagram must be served again. */
    static final long SETTLE_MILLIS = 1000;
    /** How long the checked window after the settle time lasts. */
    private static final long WINDOW_MILLIS = 600;

    @Test
    void ownMacChange() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 1, (server, load) -> {
            String mac = "02:00:5e:10:00:01";
            Shell.run("ip link set dev " + pair.hostIf() + " address " + mac);
            pair.peer().exec("ip neigh replace " + pair.hostV4().getHostAddress() + " lladdr " + mac + " dev "
                    + pair.peerIf() + " nud reachable");
            settleAndCheck(server, load, true);
        });
    }

    @Test
    void peerMacChange() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 1, (server, load) -> {
            String mac = "02:00:5e:10:00:02";
            pair.peer().exec("ip link set dev " + pair.peerIf() + " address " + mac);
            Shell.run("ip neigh replace " + pair.peerV4().getHostAddress() + " lladdr " + mac + " dev "
                    + pair.hostIf() + " nud reachable");
            settleAndCheck(server, load, true);
        });
    }

    @Test
    void mtuLoweredTo1280With1400ByteDatagrams() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (Server server = Server.bound(pair.hostV4(), XdpAttachMode.DRV, null)) {
            try (Load load = Load.start(pair, server.target(pair.hostV4()), 1, 1400)) {
                load.awaitEchoes(50);
                Shell.run("ip link set dev " + pair.hostIf() + " mtu 1280");
                pair.peer().exec("ip link set dev " + pair.peerIf() + " mtu 1280");
                // requests arrive as fragments (the kernel reassembles them), replies leave fragmented
                settleAndCheck(server, load, false);
            }
            // datagrams that fit the new MTU keep the fast path both ways
            XdpChannelMetrics before = server.metrics();
            try (Load load = Load.start(pair, server.target(pair.hostV4()), 1, 1200)) {
                load.awaitEchoes(50);
                settleAndCheck(server, load, true);
            }
            XdpChannelMetrics after = server.metrics();
            assertTrue(after.txFastPackets() > before.txFastPackets(), after.toString());
        }
    }

    @Test
    void addressRemovedAndAddedBack() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        String addr = pair.hostV4().getHostAddress() + "/24";
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 1, (server, load) -> {
            Shell.run("ip addr del " + addr + " dev " + pair.hostIf());
            Thread.sleep(SETTLE_MILLIS);
            Window w = Window.next(load);
            // while the address is gone, nothing for it reaches the channel: the kernel would not deliver it
            Thread.sleep(200);
            assertEquals(0, server.receivedIn(w.from, w.to),
                    "datagrams for a removed address arrived: " + server.metrics());
            Shell.run("ip addr add " + addr + " dev " + pair.hostIf());
            settleAndCheck(server, load, true);
        });
    }

    @Test
    void linkFlapped10Times() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 1, (server, load) -> {
            for (int i = 0; i < 10; i++) {
                Shell.run("ip link set dev " + pair.hostIf() + " down");
                Shell.run("ip link set dev " + pair.hostIf() + " up");
            }
            settleAndCheck(server, load, true);
            assertTrue(server.channel.isFastPathActive());
            assertEquals(0, server.metrics().fastPathLosses());
        });
    }

    @Test
    void vethDeletedAndRecreated() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        underLoad(pair, Server.wildcard(pair.hostIf(), XdpAttachMode.DRV), 1, (server, load) -> {
            Shell.run("ip link del " + pair.hostIf());
            awaitTrue(() -> !server.channel.isFastPathActive(), "fast path given up after the delete");
            assertEquals(1, server.metrics().fastPathLosses());
            recreate(pair);
            awaitTrue(server.channel::isFastPathActive, "fast path back on the re-created " + pair.hostIf());
            assertEquals(pair.hostIf(), server.channel.fastPathInterface());
            settleAndCheck(server, load, true);
        });
    }

    @Test
    void foreignLinkDetach() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 1, (server, load) -> {
            Shell.run("bpftool link detach id " + xdpLinkId(pair.hostIf()));
            awaitTrue(() -> !server.channel.isFastPathActive(), "fast path given up after the detach");
            assertEquals(1, server.metrics().fastPathLosses());
            // the kernel socket serves every datagram now, and the program stays detached
            settleAndCheck(server, load, false);
            assertFalse(server.channel.isFastPathActive());
        });
    }

    /**
     * Queues 4 → 2 → 4, as far as the kernel allows: it refuses to take away a queue an AF_XDP socket is
     * bound to ("requested channel counts are too low for existing zerocopy AF_XDP sockets", for copy
     * mode too), so the interface goes to 2 before the bind, then to 4 (the new queues get sockets),
     * and the way back to 2 is refused while the channel serves on all 4.
     */
    @Test
    void queues4To2To4() throws Exception {
        VethPair pair = HOSTS.vethPair(4);
        // native XDP on veth needs at least as many RX queues as the peer has TX queues
        Shell.run("ethtool -L " + pair.hostIf() + " rx 2 tx 2");
        pair.peer().exec("ethtool -L " + pair.peerIf() + " rx 2 tx 2");
        underLoad(pair, Server.bound(pair.hostV4(), XdpAttachMode.DRV, null), 8, (server, load) -> {
            assertEquals(2, queues(server));
            Shell.run("ethtool -L " + pair.hostIf() + " rx 4 tx 4");
            pair.peer().exec("ethtool -L " + pair.peerIf() + " rx 4 tx 4");
            awaitTrue(() -> queues(server) == 4, "four queue sockets after ethtool -L 4");
            settleAndCheck(server, load, true);
            Shell.Result shrink = Shell.tryRun("ethtool -L " + pair.hostIf() + " rx 2 tx 2");
            assertTrue(shrink.exitCode() != 0 && shrink.output().contains("AF_XDP"), shrink.output());
            settleAndCheck(server, load, true);
            assertEquals(4, queues(server));
        });
    }

    // ------------------------------------------------------------------------------------ helpers

    private static int queues(Server server) {
        try {
            return server.channel.eventLoop().submit(() -> server.channel.frameAccounting().length).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a test does to the network while {@link #underLoad} serves. */
    @FunctionalInterface
    private interface Change {
        void run(Server server, Load load) throws Exception;
    }

    /**
     * Starts a load of 64-byte datagrams in {@code flows} flows to {@code server}, runs {@code change} once
     * the first echoes are back, then closes both.
     */
    private static void underLoad(VethPair pair, Server server, int flows, Change change) throws Exception {
        try (server; Load load = Load.start(pair, server.target(pair.hostV4()), flows, 64)) {
            load.awaitEchoes(50);
            change.run(server, load);
        }
    }

    /** The sequence numbers {@code [from, to)} a load sent in one checked window. */
    private record Window(long from, long to) {
        /** Waits the window time and returns the datagrams sent meanwhile. */
        static Window next(Load load) throws InterruptedException {
            long from = load.sent();
            Thread.sleep(WINDOW_MILLIS);
            return new Window(from, load.sent());
        }
    }

    /** Waits the settle time, then checks that every datagram of the next window was echoed. */
    private static void settleAndCheck(Server server, Load load, boolean fastPath) throws Exception {
        Thread.sleep(SETTLE_MILLIS);
        XdpChannelMetrics before = server.metrics();
        Window w = Window.next(load);
        long from = w.from;
        long to = w.to;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (load.missing(from, to) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20); // the last datagrams of the window are still on their way
        }
        XdpChannelMetrics after = server.metrics();
        assertTrue(to - from > 50, "the load ran: " + (to - from) + " datagrams in the window");
        assertEquals(0, load.missing(from, to), "lost of " + (to - from) + " sent after the settle time; server: "
                + after);
        assertEquals(0, load.corrupt(), "echoes that differ from their request");
        if (fastPath) {
            assertTrue(after.rxFastPackets() - before.rxFastPackets() >= (to - from) / 2,
                    "the fast path serves again: before " + before + ", after " + after);
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 3 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static void recreate(VethPair pair) {
        String ns = pair.peer().name();
        Shell.run("ip link add " + pair.hostIf() + " type veth peer name " + pair.peerIf() + " netns " + ns);
        String v4 = pair.hostV4().getHostAddress();
        String peer4 = pair.peerV4().getHostAddress();
        Shell.run("ip addr add " + v4 + "/24 dev " + pair.hostIf());
        Shell.run("ip link set " + pair.hostIf() + " up");
        pair.peer().exec("ip addr add " + peer4 + "/24 dev " + pair.peerIf());
        pair.peer().exec("ip link set " + pair.peerIf() + " up");
    }

    /** The id of the bpf_link attaching XDP to {@code ifname}, from {@code bpftool net show} and {@code link show}. */
    private static int xdpLinkId(String ifname) {
        String net = Shell.run("bpftool net show dev " + ifname);
        Matcher prog = Pattern.compile("(?:driver|generic) id (\\d+)").matcher(net);
        assertTrue(prog.find(), "an XDP program on " + ifname + " in:\n" + net);
        String links = Shell.run("bpftool link show");
        Matcher m = Pattern.compile("(?m)^(\\d+): xdp\\s+prog " + prog.group(1) + "\\b").matcher(links);
        assertTrue(m.find(), "the XDP link of program " + prog.group(1) + " in:\n" + links);
        return Integer.parseInt(m.group(1));
    }

    /** An echo server that records the sequence number of every datagram it receives. */
    static final class Server implements AutoCloseable {
        final XdpDatagramChannel channel;
        final Set<Long> received = ConcurrentHashMap.newKeySet();

        private Server(Bootstrap b, InetSocketAddress local) throws InterruptedException {
            b.group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>(false) {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                            if (packet.content().readableBytes() >= 8) {
                                received.add(packet.content().getLong(packet.content().readerIndex()));
                            }
                            ctx.write(new DatagramPacket(packet.content(), packet.sender()));
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            ctx.flush();
                        }
                    });
            this.channel = (XdpDatagramChannel) b.bind(local).sync().channel();
            assertTrue(channel.isFastPathActive(), "fast path at bind");
        }

        static Server bound(InetAddress ip, XdpAttachMode mode, String ifname) throws InterruptedException {
            Bootstrap b = new Bootstrap().option(XdpChannelOption.XDP_MODE, mode);
            if (ifname != null) {
                b.option(XdpChannelOption.INTERFACE, ifname);
            }
            return new Server(b, new InetSocketAddress(ip, 0));
        }

        static Server wildcard(String ifname, XdpAttachMode mode) throws InterruptedException {
            return new Server(new Bootstrap().option(XdpChannelOption.XDP_MODE, mode)
                    .option(XdpChannelOption.INTERFACE, ifname), new InetSocketAddress(0));
        }

        InetSocketAddress target(InetAddress ip) {
            return new InetSocketAddress(ip, channel.localAddress().getPort());
        }

        XdpChannelMetrics metrics() throws Exception {
            return channel.eventLoop().submit(channel::metrics).get();
        }

        long receivedIn(long from, long to) {
            long n = 0;
            for (long s = from; s < to; s++) {
                if (received.contains(s)) {
                    n++;
                }
            }
            return n;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }

    /**
     * Numbered datagrams from {@code flows} sockets in the peer namespace, sent round robin without
     * pause (about one every 300 µs), and the echoes that came back.
     */
    static final class Load implements AutoCloseable {
        private final List<DatagramSocket> sockets;
        private final InetSocketAddress target;
        private final int size;
        private final AtomicLong next = new AtomicLong();
        private final AtomicLong corrupt = new AtomicLong();
        private final Set<Long> echoed = ConcurrentHashMap.newKeySet();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        private Load(List<DatagramSocket> sockets, InetSocketAddress target, int size) {
            this.sockets = sockets;
            this.target = target;
            this.size = size;
        }

        static Load start(VethPair pair, InetSocketAddress target, int flows, int size) throws Exception {
            InetAddress local = pair.peerV4();
            List<DatagramSocket> sockets = pair.peer().call(() -> {
                List<DatagramSocket> list = new ArrayList<>();
                for (int i = 0; i < flows; i++) {
                    DatagramSocket s = new DatagramSocket(new InetSocketAddress(local, 0));
                    s.setSoTimeout(100);
                    s.setReceiveBufferSize(4 << 20); // a receiver descheduled on a busy machine loses nothing
                    list.add(s);
                }
                return list;
            });
            Load load = new Load(sockets, target, size);
            for (DatagramSocket s : sockets) {
                load.thread("load-rx", () -> load.receive(s));
            }
            load.thread("load-tx", load::send);
            return load;
        }

        private void thread(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }

        private void send() {
            byte[] payload = new byte[size];
            ByteBuffer b = ByteBuffer.wrap(payload);
            int i = 0;
            while (running) {
                long seq = next.get();
                b.putLong(0, seq);
                for (int k = 8; k + 8 <= size; k += 8) {
                    b.putLong(k, seq * 31 + k);
                }
                try {
                    sockets.get(i++ % sockets.size()).send(new java.net.DatagramPacket(payload, size, target));
                } catch (IOException e) {
                    // the link is down or gone for a moment: the datagram counts as sent (and lost)
                }
                next.incrementAndGet();
                java.util.concurrent.locks.LockSupport.parkNanos(300_000);
            }
        }

        private void receive(DatagramSocket s) {
            byte[] buf = new byte[2048];
            java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
            while (running) {
                try {
                    p.setLength(buf.length);
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                } catch (IOException e) {
                    if (!running) {
                        return;
                    }
                    continue;
                }
                ByteBuffer b = ByteBuffer.wrap(buf, 0, p.getLength());
                if (p.getLength() != size) {
                    corrupt.incrementAndGet();
                    continue;
                }
                long seq = b.getLong(0);
                for (int k = 8; k + 8 <= size; k += 8) {
                    if (b.getLong(k) != seq * 31 + k) {
                        corrupt.incrementAndGet();
                        break;
                    }
                }
                echoed.add(seq);
            }
        }

        long sent() {
            return next.get();
        }

        long corrupt() {
            return corrupt.get();
        }

        long missing(long from, long to) {
            long n = 0;
            for (long s = from; s < to; s++) {
                if (!echoed.contains(s)) {
                    n++;
                }
            }
            return n;
        }

        void awaitEchoes(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (echoed.size() < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no echoes before the change: " + echoed.size());
                }
                Thread.sleep(10);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(2000);
            }
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }
    }
}
