package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.testing.EchoClient;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.ParanoidLeaks;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Datagrams larger than one UMEM frame on the fast path (AF_XDP multi-buffer): received as one
 * {@link DatagramPacket} over a composite of the frames, echoed as a descriptor chain, over a veth
 * pair with MTU 9000 in native and generic mode and over a namespace's {@code lo} (MTU 65536).
 * Netty's leak detector runs at PARANOID and must report nothing; every test ends with every frame back.
 */
class MultiBufferTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    @Test
    void jumboEchoOverVethInDriverMode() throws Exception {
        jumboEcho(XdpAttachMode.DRV, XdpAttachMode.DRV);
    }

    @Test
    void jumboEchoOverVethInGenericMode() throws Exception {
        jumboEcho(XdpAttachMode.SKB, XdpAttachMode.SKB);
    }

    @Test
    void autoModeStaysNativeOnJumboVeth() throws Exception {
        jumboEcho(XdpAttachMode.AUTO, XdpAttachMode.DRV);
    }

    /**
     * The largest UMEM headroom the kernel takes ({@value #LARGEST_HEADROOM} bytes of a 2048-byte frame)
     * leaves 448 bytes of each frame to receive into: a jumbo datagram arrives as a chain of up to 21
     * frames (more than the 17 one sent packet takes: echoed as a copy into fewer frames).
     */
    @Test
    void jumboEchoOverFramesShortenedByUmemHeadroom() throws Exception {
        jumboEcho(XdpAttachMode.DRV, XdpAttachMode.DRV, LARGEST_HEADROOM);
    }

    /**
     * The kernel's limit on {@code XDP_UMEM_REG}'s headroom in a 2048-byte frame (Linux 6.18: the frame
     * less {@code XDP_PACKET_HEADROOM}, an aligned {@code skb_shared_info} and 128 bytes).
     */
    static final int LARGEST_HEADROOM = 2048 - 256 - 320 - 128;

    private void jumboEcho(XdpAttachMode mode, XdpAttachMode expected) throws Exception {
        jumboEcho(mode, expected, 0);
    }

    private void jumboEcho(XdpAttachMode mode, XdpAttachMode expected, int umemHeadroom) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        org.nettyxdp.testing.Shell.run("ip link set " + pair.hostIf() + " mtu 9000");
        pair.peer().exec("ip link set " + pair.peerIf() + " mtu 9000");
        // complete checksums from the peer, so the fast path verifies them across the fragments
        pair.disablePeerChecksumOffload();
        AtomicInteger composites = new AtomicInteger();
        Channel server = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, mode)
                .option(XdpChannelOption.UMEM_HEADROOM, umemHeadroom)
                .handler(new CheckingEcho(composites))
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            XdpDatagramChannel ch = (XdpDatagramChannel) server;
            assertTrue(ch.isFastPathActive(), "fast path on " + pair.hostIf());
            XdpChannelMetrics.Modes modes = ch.metrics().modes();
            assertEquals(expected, modes.attachMode(), modes.toString());
            assertTrue(modes.multiBuffer(), "multi-buffer on every queue: " + modes);
            assertFalse(modes.queues().isEmpty(), modes.toString());
            InetSocketAddress target = ch.localAddress();
            int count = 1000;
            int received = EchoClient.randomEchoes(pair, pair.peerV4(), target, count, 9000 - 28, 9000);
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(count, received, "echoes received; metrics: " + m);
            assertEquals(count, m.rxFastPackets(), "every datagram on the fast path: " + m);
            assertEquals(0, m.rxSlowPackets(), m.toString());
            // the first echoes take the kernel socket while the peer's next hop is resolved off the loop
            assertEquals(count, m.txFastPackets() + m.txSlowPackets(), m.toString());
            assertTrue(m.txFastPackets() >= count * 3 / 4, "kernel socket only while the next hop resolves: " + m);
            assertTrue(m.rxMultiBuffer() > count / 2, "most datagrams span several frames: " + m);
            // (with a UMEM headroom the kernel receives into less of a frame than a send can fill)
            assertTrue(umemHeadroom > 0 || m.txMultiBuffer() >= m.rxMultiBuffer() - m.txSlowPackets(),
                    "what arrived as a chain leaves as one: " + m);
            assertEquals(m.rxMultiBuffer(), composites.get(), "chains reach the handler as composites");
            // one at a time, every reply leaves over the frames it arrived in: single frames and chains (of
            // at most the 17 frames the kernel sends as one packet: longer ones are copied into fewer)
            if (umemHeadroom == 0) {
                assertEquals(m.txFastPackets(), m.txZeroCopy(), "every fast-path reply in place: " + m);
            }
            assertEquals(0, m.dropped(), m.toString());
            assertBalanced(ch);
        } finally {
            server.close().sync();
        }
    }

    /** Bursts of jumbo datagrams: many chains in flight on both rings at once. */
    @Test
    void jumboBurstsEchoOnTheFastPath() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        org.nettyxdp.testing.Shell.run("ip link set " + pair.hostIf() + " mtu 9000");
        pair.peer().exec("ip link set " + pair.peerIf() + " mtu 9000");
        AtomicInteger composites = new AtomicInteger();
        Channel server = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                .handler(new CheckingEcho(composites))
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            XdpDatagramChannel ch = (XdpDatagramChannel) server;
            InetSocketAddress target = ch.localAddress();
            int bursts = 20;
            int burst = 50;
            int received = pair.peer().call(() -> {
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    client.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
                    client.socket().setSoTimeout(1000);
                    int ok = 0;
                    for (int b = 0; b < bursts; b++) {
                        for (int i = 0; i < burst; i++) {
                            client.send(ByteBuffer.allocate(8000), target);
                        }
                        for (int i = 0; i < burst; i++) {
                            try {
                                client.socket().receive(new java.net.DatagramPacket(new byte[9000], 9000));
                                ok++;
                            } catch (SocketTimeoutException e) {
                                break;
                            }
                        }
                    }
                    return ok;
                }
            });
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(m.rxFastPackets(), m.txFastPackets() + m.txSlowPackets(), "every datagram echoed: " + m);
            assertTrue(m.txFastPackets() >= m.rxFastPackets() * 3 / 4, m.toString());
            assertTrue(received >= m.rxFastPackets() * 9 / 10, received + " echoes; " + m);
            assertBalanced(ch);
        } finally {
            server.close().sync();
        }
    }

    @Test
    void largeDatagramsOverLoopback() throws Exception {
        largeDatagramsOverLoopback(0);
    }

    /**
     * With the largest UMEM headroom a 65 507-byte datagram arrives as a chain of 147 frames of 448 bytes,
     * four times the 37 of full frames: still a datagram, not a chain too long for the socket.
     */
    @Test
    void largeDatagramsOverLoopbackIntoFramesShortenedByUmemHeadroom() throws Exception {
        largeDatagramsOverLoopback(LARGEST_HEADROOM);
    }

    private void largeDatagramsOverLoopback(int umemHeadroom) throws Exception {
        NetNs ns = HOSTS.namespace();
        // IPv4 replies on lo take the fast path only where the kernel takes 127/8 from a device
        ns.exec("sysctl -q -w net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.lo.accept_local=1");
        ns.call(() -> {
            EventLoopGroup group = new XdpEventLoopGroup(1);
            try {
                AtomicInteger composites = new AtomicInteger();
                Channel server = new Bootstrap().group(group).channel(XdpDatagramChannel.class)
                        .option(XdpChannelOption.UMEM_HEADROOM, umemHeadroom)
                        .handler(new CheckingEcho(composites))
                        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
                XdpDatagramChannel ch = (XdpDatagramChannel) server;
                try {
                    assertTrue(ch.isFastPathActive());
                    assertEquals("lo", ch.fastPathInterface());
                    assertTrue(ch.metrics().modes().multiBuffer(), ch.metrics().modes().toString());
                    assertEquals(XdpAttachMode.SKB, ch.metrics().modes().attachMode());
                    Random random = new Random(65507);
                    try (DatagramChannel client = DatagramChannel.open()) {
                        client.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                        client.socket().setSoTimeout(2000);
                        // a first small datagram has the reply's next hop resolved (off the event loop)
                        client.send(ByteBuffer.wrap(new byte[100]), ch.localAddress());
                        client.socket().receive(new java.net.DatagramPacket(new byte[200], 200));
                        Thread.sleep(200);
                        for (int size : new int[] {30_000, 65_507}) {
                            byte[] payload = new byte[size];
                            random.nextBytes(payload);
                            client.send(ByteBuffer.wrap(payload), ch.localAddress());
                            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[65536], 65536);
                            client.socket().receive(p);
                            assertArrayEquals(payload, Arrays.copyOf(p.getData(), p.getLength()), size + " B");
                        }
                    }
                    XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
                    assertEquals(3, m.rxFastPackets(), "all on the fast path: " + m);
                    assertEquals(2, m.rxMultiBuffer(), m.toString());
                    assertEquals(2, composites.get());
                    // 30 000 B fits a chain the kernel sends; 65 507 B needs more fragments: kernel socket
                    assertEquals(1, m.txMultiBuffer(), m.toString());
                    assertEquals(3, m.txFastPackets() + m.txSlowPackets(), m.toString());
                    assertEquals(m.txFastPackets() == 2 ? 1 : 2, m.txSlowPackets(), m.toString());
                    assertEquals(0, m.dropped(), m.toString());
                    assertBalanced(ch);
                } finally {
                    server.close().sync();
                }
                return null;
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        });
    }

    static void assertBalanced(XdpDatagramChannel ch) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            boolean settled = true;
            for (FrameAccounting a : ch.frameAccounting()) {
                settled &= a.balanced() && a.application() == 0 && a.tx() == 0;
            }
            if (settled) {
                break;
            }
            Thread.sleep(20);
        }
        for (FrameAccounting a : ch.frameAccounting()) {
            assertTrue(a.balanced(), a.toString());
            assertEquals(0, a.application(), a.toString());
            assertEquals(0, a.tx(), a.toString());
        }
        assertEquals(0, ch.metrics().drops().get(DropReason.MULTI_BUFFER));
    }

    /**
     * Echoes every datagram, after checking the buffer contract: index 0 is the first payload byte,
     * a multi-frame datagram is a composite of UMEM frames (zero-copy).
     */
    private static final class CheckingEcho extends SimpleChannelInboundHandler<DatagramPacket> {
        private final AtomicInteger composites;

        CheckingEcho(AtomicInteger composites) {
            super(false);
            this.composites = composites;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ByteBuf content = packet.content();
            if (content.readerIndex() != 0) {
                throw new IllegalStateException("reader index " + content.readerIndex());
            }
            if (content instanceof CompositeByteBuf c) {
                for (int i = 0; i < c.numComponents(); i++) {
                    ByteBuf part = c.internalComponent(i);
                    ByteBuf frame = part instanceof UmemByteBuf ? part : part.unwrap();
                    if (!(frame instanceof UmemByteBuf)) {
                        packet.release();
                        throw new IllegalStateException("component " + i + " is " + part);
                    }
                }
                composites.incrementAndGet();
            }
            ctx.write(new DatagramPacket(content, packet.sender()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
