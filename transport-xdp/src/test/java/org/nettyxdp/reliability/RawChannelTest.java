package org.nettyxdp.reliability;

import org.nettyxdp.testing.Frames;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpFrameFilter;
import org.nettyxdp.channel.XdpRawAddress;
import org.nettyxdp.channel.XdpRawChannel;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.UdpHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.testing.ParanoidLeaks;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link XdpRawChannel} on veth pairs: a reflector round trip (zero-copy, every frame accounted for),
 * frames the filter does not take reaching the kernel (ARP, ping, UDP), sharing one interface with an
 * {@link XdpDatagramChannel}, the matchers live against frames sent from the peer, and hostile and
 * runt frames. Netty's leak detector runs at PARANOID throughout and must report nothing.
 */
class RawChannelTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    static final int REFLECT_PORT = 7777;

    /** Sends each IPv4/UDP frame back where it came from: MACs, addresses and ports swapped, in place. */
    @ChannelHandler.Sharable
    static final class Reflector extends ChannelInboundHandlerAdapter {
        final AtomicInteger reflected = new AtomicInteger();
        final AtomicInteger others = new AtomicInteger();
        private final EthHdr eth = new EthHdr();
        private final Ipv4Hdr ip = new Ipv4Hdr();
        private final UdpHdr udp = new UdpHdr();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (!(frame instanceof UmemByteBuf u) || u.readableBytes() < 42) {
                others.incrementAndGet();
                frame.release();
                return;
            }
            XdpPacket p = u.packet();
            p.read(0, eth);
            if (eth.etherType() != 0x0800) {
                others.incrementAndGet();
                frame.release();
                return;
            }
            long dst = eth.destinationBits();
            eth.setDestination(eth.source());
            eth.setSource(org.nettyxdp.packet.MacAddress.of(dst));
            p.read(EthHdr.LEN, ip);
            int src = ip.source();
            ip.setSource(ip.destination());
            ip.setDestination(src);
            p.read(EthHdr.LEN + ip.headerLength(), udp);
            int sport = udp.sourcePort();
            udp.setSourcePort(udp.destinationPort());
            udp.setDestinationPort(sport);
            // swapping 16-bit words leaves both checksums valid
            reflected.incrementAndGet();
            ctx.write(frame);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /**
     * Binds a raw channel (a queue whose previous socket closed moments ago is busy for a while: the
     * bind retries by itself, see {@code RawBusyQueueBindTest}).
     */
    static XdpRawChannel raw(String ifname, XdpFrameFilter filter, ChannelHandler handler) throws Exception {
        return (XdpRawChannel) new Bootstrap().group(LOOPS.group()).channel(XdpRawChannel.class)
                .handler(handler).bind(new XdpRawAddress(ifname, filter)).sync().channel();
    }

    @Test
    void reflectsFramesZeroCopyAndAccountsForEveryFrame() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        pair.disablePeerChecksumOffload();
        Reflector reflector = new Reflector();
        XdpRawChannel ch = raw(pair.hostIf(), XdpFrameFilter.udpDestinationPort(REFLECT_PORT), reflector);
        try {
            assertTrue(ch.isActive());
            assertFalse(ch.isTxChecksumOffload(), "veth offers no TX metadata: " + ch.deviceFeatures());
            int count = 2000;
            int got = pair.peer().call(() -> pingPong(pair, REFLECT_PORT, count, 1));
            assertEquals(count, got, "replies");
            assertEquals(count, reflector.reflected.get());
            XdpChannelMetrics m = waitForTx(ch, count);
            assertEquals(count, m.rxFastPackets(), m.toString());
            assertEquals(count, m.txFastPackets(), m.toString());
            assertEquals(count, m.txZeroCopy(), "every reply left in the frame it arrived in: " + m);
            assertBalanced(ch);
        } finally {
            ch.close().sync();
        }
    }

    /** From the peer: {@code count} datagrams to host:port, each answered before the next; returns replies. */
    static int pingPong(VethPair pair, int port, int count, int seed) throws Exception {
        Random random = new Random(seed);
        int replies = 0;
        try (DatagramChannel c = DatagramChannel.open()) {
            c.bind(new InetSocketAddress(pair.peerV4(), 0));
            c.socket().setSoTimeout(2000);
            InetSocketAddress to = new InetSocketAddress(pair.hostV4(), port);
            ByteBuffer in = ByteBuffer.allocate(2048);
            for (int i = 0; i < count; i++) {
                byte[] payload = new byte[1 + random.nextInt(1400)];
                random.nextBytes(payload);
                c.send(ByteBuffer.wrap(payload), to);
                in.clear();
                var sock = c.socket();
                java.net.DatagramPacket dp = new java.net.DatagramPacket(new byte[2048], 2048);
                try {
                    sock.receive(dp);
                } catch (java.net.SocketTimeoutException e) {
                    continue;
                }
                assertEquals(to, dp.getSocketAddress(), "reply from the address we sent to");
                assertArrayEquals(payload, java.util.Arrays.copyOf(dp.getData(), dp.getLength()));
                replies++;
            }
        }
        return replies;
    }

    private static XdpChannelMetrics waitForTx(XdpRawChannel ch, long tx) throws InterruptedException {
        XdpChannelMetrics m = ch.metrics();
        for (int i = 0; i < 200 && m.txFastPackets() < tx; i++) {
            Thread.sleep(10);
            m = ch.metrics();
        }
        return m;
    }

    private static void assertBalanced(XdpRawChannel ch) throws Exception {
        FrameAccounting[] a = ch.frameAccounting();
        for (int i = 0; i < 200; i++) {
            a = ch.eventLoop().submit(ch::frameAccounting).get();
            boolean settled = true;
            for (FrameAccounting f : a) {
                settled &= f.balanced() && f.application() == 0 && f.tx() == 0;
            }
            if (settled) {
                return;
            }
            Thread.sleep(10);
        }
        for (FrameAccounting f : a) {
            assertTrue(f.balanced(), f.toString());
            assertEquals(0, f.application(), "frames still held: " + f);
            assertEquals(0, f.tx(), "frames still in TX: " + f);
        }
    }

    @Test
    void sendsCopiesAndAllocatedFramesAndRefusesRunts() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        byte[] hostMac = pair.hostMac();
        byte[] peerMac = pair.peerMac();
        XdpRawChannel ch = raw(pair.hostIf(), XdpFrameFilter.udpDestinationPort(REFLECT_PORT), new Reflector());
        try {
            java.util.concurrent.Future<List<String>> received = pair.peer().submit(() -> {
                List<String> got = new ArrayList<>();
                try (java.net.DatagramSocket s = new java.net.DatagramSocket(
                        new InetSocketAddress(pair.peerV4(), 6000))) {
                    s.setSoTimeout(3000);
                    for (int i = 0; i < 2; i++) {
                        java.net.DatagramPacket dp = new java.net.DatagramPacket(new byte[64], 64);
                        s.receive(dp);
                        got.add(new String(dp.getData(), 0, dp.getLength(), java.nio.charset.StandardCharsets.US_ASCII)
                                + " from " + dp.getSocketAddress());
                    }
                }
                return got;
            });
            Thread.sleep(200); // the peer socket is bound
            byte[] src = pair.hostV4().getAddress();
            byte[] dst = pair.peerV4().getAddress();
            java.util.function.Function<String, byte[]> frame = text -> {
                byte[] udp = Frames.udpChecksum(Frames.udp(REFLECT_PORT, 6000,
                        text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), src, dst);
                return Frames.eth(peerMac, hostMac, Frames.ETH_IPV4,
                        Frames.ipv4(src, dst, Frames.UDP, 1, 0x4000, new byte[0], udp));
            };
            // a heap buffer: copied into a frame once
            ch.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(frame.apply("copied"))).sync();
            // a frame from the channel's allocator: sent in place
            ByteBuf own = ch.allocateFrame();
            assertTrue(own instanceof UmemByteBuf, "a UMEM frame: " + own);
            own.writeBytes(frame.apply("in-place"));
            ch.writeAndFlush(own).sync();
            var runt = ch.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(new byte[10])).await();
            assertTrue(runt.cause() instanceof IllegalArgumentException, String.valueOf(runt.cause()));
            String from = " from " + new InetSocketAddress(pair.hostV4(), REFLECT_PORT);
            assertEquals(List.of("copied" + from, "in-place" + from), received.get());
            XdpChannelMetrics m = waitForTx(ch, 2);
            assertEquals(2, m.txFastPackets(), m.toString());
            assertEquals(1, m.txZeroCopy(), m.toString());
            assertBalanced(ch);
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void writabilityFollowsTheTxRing() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        byte[] hostMac = pair.hostMac();
        byte[] peerMac = pair.peerMac();
        List<Boolean> changes = Collections.synchronizedList(new ArrayList<>());
        XdpRawChannel ch = (XdpRawChannel) new Bootstrap().group(LOOPS.group()).channel(XdpRawChannel.class)
                .option(org.nettyxdp.channel.XdpChannelOption.RING_SIZE, 64)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                        changes.add(ctx.channel().isWritable());
                    }
                })
                .bind(new XdpRawAddress(pair.hostIf(), XdpFrameFilter.udpDestinationPort(REFLECT_PORT))).sync()
                .channel();
        try {
            byte[] src = pair.hostV4().getAddress();
            byte[] dst = pair.peerV4().getAddress();
            byte[] frame = Frames.eth(peerMac, hostMac, Frames.ETH_IPV4, Frames.ipv4(src, dst, Frames.UDP, 1,
                    0x4000, new byte[0], Frames.udpChecksum(Frames.udp(REFLECT_PORT, 9, new byte[200]), src, dst)));
            int n = 3000; // 700 KB queued at once: far above the 64 KiB high water mark, 47 rings' worth
            ch.eventLoop().submit(() -> {
                for (int i = 0; i < n; i++) {
                    ch.write(io.netty.buffer.Unpooled.wrappedBuffer(frame), ch.voidPromise());
                }
                ch.flush();
            }).sync();
            XdpChannelMetrics m = waitForTx(ch, n);
            for (int i = 0; i < 200 && !ch.isWritable(); i++) {
                Thread.sleep(10);
            }
            assertEquals(n, m.txFastPackets(), m.toString());
            assertTrue(ch.isWritable(), "writable again once the ring drained");
            assertEquals(List.of(false, true), changes, "unwritable while frames wait for the ring: " + m);
            assertBalanced(ch);
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void framesTheFilterDoesNotTakeReachTheKernel() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Reflector reflector = new Reflector();
        XdpRawChannel ch = raw(pair.hostIf(), XdpFrameFilter.udpDestinationPort(REFLECT_PORT), reflector);
        try (DatagramChannel kernel = DatagramChannel.open()) {
            kernel.bind(new InetSocketAddress(pair.hostV4(), 0));
            int kernelPort = ((InetSocketAddress) kernel.getLocalAddress()).getPort();
            // ARP from scratch, then ICMP echo both ways through the kernel
            pair.peer().exec("ip neigh flush dev " + pair.peerIf());
            Shell.run("ip neigh flush dev " + pair.hostIf());
            pair.peer().exec("ping -c 2 -W 2 " + pair.hostV4().getHostAddress());
            pair.peer().exec("ping -6 -c 2 -W 2 " + pair.hostV6().getHostAddress());
            Shell.run("ping -c 1 -W 2 " + pair.peerV4().getHostAddress());
            // UDP to another port: the kernel socket's
            pair.peer().call(() -> {
                try (DatagramChannel c = DatagramChannel.open()) {
                    c.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(pair.hostV4(), kernelPort));
                }
                return null;
            });
            kernel.socket().setSoTimeout(2000);
            java.net.DatagramPacket dp = new java.net.DatagramPacket(new byte[16], 16);
            kernel.socket().receive(dp);
            assertEquals(3, dp.getLength());
            assertEquals(0, reflector.reflected.get() + reflector.others.get(), "the raw channel took nothing");
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void sharesTheInterfaceWithADatagramChannel() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        pair.disablePeerChecksumOffload();
        AtomicInteger echoed = new AtomicInteger();
        XdpDatagramChannel dgram = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        echoed.incrementAndGet();
                        ctx.writeAndFlush(new DatagramPacket(p.content().retain(), p.sender()));
                    }
                })
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        Reflector reflector = new Reflector();
        // every UDP frame: the datagram channel's port must still win
        XdpRawChannel ch = raw(pair.hostIf(), XdpFrameFilter.ipProtocol(17), reflector);
        try {
            assertTrue(dgram.isFastPathActive());
            int port = dgram.localAddress().getPort();
            assertEquals(200, (int) pair.peer().call(() -> pingPong(pair, port, 200, 2)), "datagram echoes");
            assertEquals(200, (int) pair.peer().call(() -> pingPong(pair, REFLECT_PORT, 200, 3)), "raw reflections");
            assertEquals(200, echoed.get());
            assertEquals(200, reflector.reflected.get());
            assertEquals(200, dgram.metrics().rxFastPackets(), dgram.metrics().toString());
            pair.peer().exec("ping -c 1 -W 2 " + pair.hostV4().getHostAddress());
            assertBalanced(ch);
        } finally {
            ch.close().sync();
            dgram.close().sync();
        }
    }

    /** Records the 4-byte marker at the end of every frame it receives. */
    @ChannelHandler.Sharable
    static final class Markers extends ChannelInboundHandlerAdapter {
        final Set<Integer> seen = Collections.synchronizedSet(new TreeSet<>());
        final AtomicInteger frames = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf f = (ByteBuf) msg;
            try {
                frames.incrementAndGet();
                if (f.readableBytes() >= 18) {
                    seen.add(f.getInt(f.writerIndex() - 4));
                }
            } finally {
                f.release();
            }
        }
    }

    @Test
    void matchersTakeExactlyTheirFramesLive() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        byte[] hostMac = pair.hostMac();
        byte[] src4 = pair.peerV4().getAddress();
        byte[] dst4 = pair.hostV4().getAddress();
        byte[] src6 = pair.peerV6().getAddress();
        byte[] dst6 = pair.hostV6().getAddress();
        // marker → frame; markers 1.. in table order
        Map<String, byte[]> table = new LinkedHashMap<>();
        table.put("udp4:5000", Frames.udp4(hostMac, src4, dst4, 40000, 5000, 0));
        table.put("udp4:5001", Frames.udp4(hostMac, src4, dst4, 40000, 5001, 0));
        table.put("tcp4:80", Frames.tcp4(hostMac, src4, dst4, 40001, 80, 0));
        table.put("tcp4:8080", Frames.tcp4(hostMac, src4, dst4, 40001, 8080, 0));
        table.put("udp6:5000", Frames.udp6(hostMac, src6, dst6, 40000, 5000, 0));
        table.put("vlan42:udp4:5000", Frames.udp4(hostMac, src4, dst4, 40000, 5000, 42));
        table.put("ether:88b5", Frames.ether(hostMac, 0x88b5));
        table.put("udp4:from-9.9.9.9", Frames.udp4(hostMac, new byte[] {9, 9, 9, 9}, dst4, 40000, 5000, 0));
        List<String> names = new ArrayList<>(table.keySet());
        Map<XdpFrameFilter, Set<String>> cases = new LinkedHashMap<>();
        cases.put(XdpFrameFilter.udpDestinationPort(5000),
                Set.of("udp4:5000", "udp6:5000", "vlan42:udp4:5000", "udp4:from-9.9.9.9"));
        cases.put(XdpFrameFilter.tcpDestinationPorts(1, 1024), Set.of("tcp4:80"));
        cases.put(XdpFrameFilter.vlan(42), Set.of("vlan42:udp4:5000"));
        cases.put(XdpFrameFilter.etherType(0x88b5), Set.of("ether:88b5"));
        cases.put(XdpFrameFilter.ipv4Source(pair.peerV4().getHostAddress() + "/32")
                .and(XdpFrameFilter.udpDestinationPorts(5000, 5001)), Set.of("udp4:5000", "udp4:5001",
                "vlan42:udp4:5000"));
        cases.put(XdpFrameFilter.ipv6Destination(pair.hostV6().getHostAddress() + "/64")
                .or(XdpFrameFilter.ipv4Source("9.0.0.0/8")), Set.of("udp6:5000", "udp4:from-9.9.9.9"));
        for (var c : cases.entrySet()) {
            Markers markers = new Markers();
            XdpRawChannel ch = raw(pair.hostIf(), c.getKey(), markers);
            try {
                pair.peer().call(() -> {
                    try (RawSender tx = new RawSender(pair.peerIf())) {
                        for (int i = 0; i < names.size(); i++) {
                            byte[] f = table.get(names.get(i));
                            ByteBuffer.wrap(f).putInt(f.length - 4, i + 1);
                            assertEquals(0, tx.send(f), names.get(i));
                        }
                    }
                    return null;
                });
                Set<Integer> expected = new TreeSet<>();
                for (String n : c.getValue()) {
                    expected.add(names.indexOf(n) + 1);
                }
                for (int i = 0; i < 200 && markers.seen.size() < expected.size(); i++) {
                    Thread.sleep(10);
                }
                Thread.sleep(50); // any frame it should not take would have arrived by now too
                Set<String> got = new TreeSet<>();
                for (int m : markers.seen) {
                    got.add(names.get(m - 1));
                }
                assertEquals(new TreeSet<>(c.getValue()), got, c.getKey().toString());
            } finally {
                ch.close().sync();
            }
        }
    }

    @Test
    void hostileAndRuntFramesNeverCrashIt() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        pair.disablePeerChecksumOffload();
        Markers markers = new Markers();
        XdpRawChannel all = raw(pair.hostIf(), XdpFrameFilter.all(), markers);
        int sent;
        try {
            sent = pair.peer().call(() -> {
                Random random = new Random(99);
                int n = 0;
                try (RawSender tx = new RawSender(pair.peerIf())) {
                    for (int i = 0; i < 3000; i++) {
                        byte[] f = new byte[14 + random.nextInt(i % 10 == 0 ? 3 : 1500)];
                        random.nextBytes(f);
                        f[0] &= (byte) 0xfe; // unicast, so nothing filters it before XDP
                        if (i % 4 == 0) {
                            f[12] = 0x08;
                            f[13] = 0x00;
                        } else if (i % 4 == 1) {
                            f[12] = (byte) 0x86;
                            f[13] = (byte) 0xdd;
                        } else if (i % 4 == 2) {
                            f[12] = (byte) 0x81;
                            f[13] = 0x00;
                        }
                        if (tx.send(f) == 0) {
                            n++;
                        }
                    }
                }
                return n;
            });
            for (int i = 0; i < 300 && markers.frames.get() < sent; i++) {
                Thread.sleep(10);
            }
            assertTrue(markers.frames.get() >= sent, markers.frames.get() + " of " + sent + " frames");
            assertTrue(all.isOpen());
            assertBalanced(all);
        } finally {
            all.close().sync();
        }
        // the interface still works for a raw channel and the kernel afterwards
        Reflector reflector = new Reflector();
        XdpRawChannel ch = raw(pair.hostIf(), XdpFrameFilter.udpDestinationPort(REFLECT_PORT), reflector);
        try {
            assertEquals(50, (int) pair.peer().call(() -> pingPong(pair, REFLECT_PORT, 50, 4)));
            pair.peer().exec("ping -c 1 -W 2 " + pair.hostV4().getHostAddress());
        } finally {
            ch.close().sync();
        }
    }
}
