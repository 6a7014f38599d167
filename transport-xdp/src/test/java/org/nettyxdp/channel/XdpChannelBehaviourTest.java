package org.nettyxdp.channel;

import org.nettyxdp.testing.Collector;
import org.nettyxdp.testing.EchoHandler;
import org.nettyxdp.packet.DropReason;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connect/disconnect, several channels per interface, multi-queue interfaces, options. */
class XdpChannelBehaviourTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(2);

    /** Collects received datagrams as strings with their sender. */
    private static Collector textAndSenderPort() {
        return new Collector(p -> Collector.text(p) + "@" + p.sender().getPort());
    }

    private static void send(DatagramSocket s, String text, InetSocketAddress to) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        s.send(new java.net.DatagramPacket(b, b.length, to));
    }

    @Test
    void connectedChannelTalksToItsPeerOnlyAndDisconnects() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Collector collector = textAndSenderPort();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(collector).bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramSocket peer = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)));
             DatagramSocket stranger = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            InetSocketAddress peerAddress = new InetSocketAddress(pair.peerV4(), peer.getLocalPort());
            ch.connect(peerAddress).sync();
            assertTrue(ch.isConnected());
            assertEquals(peerAddress, ch.remoteAddress());
            assertEquals(pair.hostV4(), ch.localAddress().getAddress());

            ch.writeAndFlush(Unpooled.copiedBuffer("to-peer", StandardCharsets.UTF_8)).sync();
            peer.setSoTimeout(2000);
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[100], 100);
            pair.peer().call(() -> {
                peer.receive(p);
                return null;
            });
            assertEquals("to-peer", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));

            pair.peer().call(() -> {
                send(stranger, "from-stranger", ch.localAddress());
                send(peer, "from-peer", ch.localAddress());
                return null;
            });
            assertEquals("from-peer@" + peer.getLocalPort(), collector.received.poll(2, TimeUnit.SECONDS));
            assertNull(collector.received.poll(200, TimeUnit.MILLISECONDS), "the stranger's datagram is filtered");
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(1, m.drops().get(DropReason.NOT_CONNECTED_PEER), m.toString());
            // the first datagram to a peer whose MAC the kernel has not resolved yet takes the companion socket
            assertEquals(1, m.txFastPackets() + m.txSlowPackets(), m.toString());

            ch.disconnect().sync();
            assertFalse(ch.isConnected());
            assertNull(ch.remoteAddress());
            assertNotNull(ch.localAddress());
            pair.peer().call(() -> {
                send(stranger, "after-disconnect", ch.localAddress());
                return null;
            });
            assertEquals("after-disconnect@" + stranger.getLocalPort(), collector.received.poll(2, TimeUnit.SECONDS));
            Throwable cause = ch.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8)).await().cause();
            assertTrue(cause instanceof java.nio.channels.NotYetConnectedException, String.valueOf(cause));
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void twoChannelsOnTwoPortsOfOneInterfaceEachGetTheirOwnDatagrams() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Collector a = textAndSenderPort();
        Collector b = textAndSenderPort();
        Channel chA = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class).handler(a)
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        Channel chB = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class).handler(b)
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramSocket client = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            pair.peer().call(() -> {
                for (int i = 0; i < 50; i++) {
                    send(client, "a" + i, (InetSocketAddress) chA.localAddress());
                    send(client, "b" + i, (InetSocketAddress) chB.localAddress());
                }
                return null;
            });
            for (int i = 0; i < 50; i++) {
                assertEquals("a" + i + "@" + client.getLocalPort(), a.received.poll(2, TimeUnit.SECONDS));
                assertEquals("b" + i + "@" + client.getLocalPort(), b.received.poll(2, TimeUnit.SECONDS));
            }
            XdpDatagramChannel xa = (XdpDatagramChannel) chA;
            assertEquals(50, xa.eventLoop().submit(xa::metrics).get().rxFastPackets());
        } finally {
            chA.close().sync();
        }
        // the interface stays attached for the channel that remains
        try (DatagramSocket client = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            pair.peer().call(() -> {
                send(client, "still", (InetSocketAddress) chB.localAddress());
                return null;
            });
            assertEquals("still@" + client.getLocalPort(), b.received.poll(2, TimeUnit.SECONDS));
        } finally {
            chB.close().sync();
        }
        assertFalse(org.nettyxdp.testing.Shell.run("ip -d link show " + pair.hostIf()).contains("prog/xdp"),
                "the last channel detached the program");
    }

    @Test
    void multiQueueInterfaceGetsASocketPerQueueAndEchoesFromManyFlows() throws Exception {
        VethPair pair = HOSTS.vethPair(2);
        XdpDatagramChannel server = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(new EchoHandler()).bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertEquals(2, server.frameAccounting().length, "one UMEM per queue");
            int flows = 8;
            int perFlow = 100;
            int echoed = pair.peer().call(() -> {
                int ok = 0;
                for (int f = 0; f < flows; f++) {
                    try (DatagramSocket c = new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0))) {
                        c.setSoTimeout(2000);
                        for (int i = 0; i < perFlow; i++) {
                            send(c, "f" + f + "-" + i, server.localAddress());
                            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[100], 100);
                            c.receive(p);
                            ok++;
                        }
                    }
                }
                return ok;
            });
            assertEquals(flows * perFlow, echoed);
            Thread.sleep(50);
            for (FrameAccounting acc : server.frameAccounting()) {
                assertTrue(acc.balanced(), acc.toString());
                assertEquals(0, acc.application(), acc.toString());
            }
        } finally {
            server.close().sync();
        }
    }

    @Test
    void aBufferHeldPastCloseStaysReadableUntilReleased() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        BlockingQueue<DatagramPacket> held = new LinkedBlockingQueue<>();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>(false) {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
                        held.add(msg);
                    }
                }).bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramSocket client = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            pair.peer().call(() -> {
                send(client, "kept", ch.localAddress());
                return null;
            });
            DatagramPacket packet = held.poll(2, TimeUnit.SECONDS);
            assertNotNull(packet);
            assertTrue(packet.content() instanceof org.nettyxdp.buffer.UmemByteBuf, "zero-copy buffer");
            ch.close().sync();
            assertEquals("kept", packet.content().toString(StandardCharsets.UTF_8), "the UMEM outlives the channel");
            assertTrue(packet.release());
        }
    }

    @Test
    void frameBuffersAreSentWithoutACopy() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(textAndSenderPort()).bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramSocket peer = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            InetSocketAddress to = new InetSocketAddress(pair.peerV4(), peer.getLocalPort());
            peer.setSoTimeout(2000);
            // the first datagrams take the kernel socket, which makes the kernel resolve the peer's MAC;
            // once the fast path has it (resolved off the event loop), later ones take the fast path
            long deadline = System.nanoTime() + 5_000_000_000L;
            do {
                ch.writeAndFlush(new DatagramPacket(text("prime"), to)).sync();
                pair.peer().call(() -> {
                    peer.receive(new java.net.DatagramPacket(new byte[100], 100));
                    return null;
                });
                Thread.sleep(5);
            } while (ch.eventLoop().submit(ch::metrics).get().txFastPackets() == 0 && System.nanoTime() < deadline);
            for (int i = 0; i < 20; i++) {
                ByteBuf buf = ch.frameBuffer();
                assertTrue(buf instanceof org.nettyxdp.buffer.UmemByteBuf, buf.toString());
                buf.writeCharSequence("frame-" + i, StandardCharsets.UTF_8);
                ch.writeAndFlush(new DatagramPacket(buf, to)).sync();
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[100], 100);
                pair.peer().call(() -> {
                    peer.receive(p);
                    return null;
                });
                assertEquals("frame-" + i, new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
            }
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(20, m.txZeroCopy(), m.toString());
            Thread.sleep(50);
            FrameAccounting a = ch.frameAccounting()[0];
            assertTrue(a.balanced() && a.application() == 0 && a.tx() == 0, a.toString());
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void channelsBoundToTheIpv4AndIpv6AddressOfTheInterfaceShareAPortOnTheFastPath() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        twoChannelsOnOnePort(pair, pair.hostV4(), pair.peerV4(), pair.hostV6(), pair.peerV6());
    }

    @Test
    void channelsBoundToTwoIpv4AddressesOfTheInterfaceShareAPortOnTheFastPath() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        byte[] b = pair.hostV4().getAddress();
        b[3] = 3;
        InetAddress second = InetAddress.getByAddress(b);
        // goes away with the veth pair
        Shell.run("ip addr add " + second.getHostAddress() + "/24 dev " + pair.hostIf());
        twoChannelsOnOnePort(pair, pair.hostV4(), pair.peerV4(), second, pair.peerV4());
    }

    /**
     * Binds one channel to {@code addrA} and a second one to {@code addrB} with the same port: both run
     * the fast path, and each receives exactly the datagrams sent to its own address, all through AF_XDP.
     */
    private static void twoChannelsOnOnePort(VethPair pair, InetAddress addrA, InetAddress peerA,
                                             InetAddress addrB, InetAddress peerB) throws Exception {
        Collector a = textAndSenderPort();
        Collector b = textAndSenderPort();
        XdpDatagramChannel chA = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(a).bind(new InetSocketAddress(addrA, 0)).sync().channel();
        XdpDatagramChannel chB = null;
        try {
            int port = chA.localAddress().getPort();
            chB = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .handler(b).bind(new InetSocketAddress(addrB, port)).sync().channel();
            assertEquals(port, chB.localAddress().getPort());
            assertTrue(chA.isFastPathActive(), "first channel");
            assertTrue(chB.isFastPathActive(), "second channel on the same port, other address");
            XdpDatagramChannel fb = chB;
            int n = 20;
            try (DatagramSocket cA = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(peerA, 0)));
                 DatagramSocket cB = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(peerB, 0)))) {
                pair.peer().call(() -> {
                    for (int i = 0; i < n; i++) {
                        send(cA, "a" + i, chA.localAddress());
                        send(cB, "b" + i, fb.localAddress());
                    }
                    return null;
                });
                for (int i = 0; i < n; i++) {
                    assertEquals("a" + i + "@" + cA.getLocalPort(), a.received.poll(2, TimeUnit.SECONDS));
                    assertEquals("b" + i + "@" + cB.getLocalPort(), b.received.poll(2, TimeUnit.SECONDS));
                }
                assertNull(a.received.poll(200, TimeUnit.MILLISECONDS), "A got only its own datagrams");
                assertNull(b.received.poll(1, TimeUnit.MILLISECONDS), "B got only its own datagrams");
                XdpChannelMetrics mA = chA.eventLoop().submit(chA::metrics).get();
                XdpChannelMetrics mB = fb.eventLoop().submit(fb::metrics).get();
                assertEquals(n, mA.rxFastPackets(), "A: " + mA);
                assertEquals(0, mA.rxSlowPackets(), "A: " + mA);
                assertEquals(n, mB.rxFastPackets(), "B: " + mB);
                assertEquals(0, mB.rxSlowPackets(), "B: " + mB);
            }
        } finally {
            if (chB != null) {
                chB.close().sync();
            }
            chA.close().sync();
        }
    }

    @Test
    void invalidOptionValuesAreRejectedClearly() {
        XdpDatagramChannel ch = new XdpDatagramChannel();
        try {
            XdpDatagramChannelConfig c = ch.config();
            assertThrows(IllegalArgumentException.class, () -> c.setOption(XdpChannelOption.UMEM_FRAME_SIZE, 1000));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(XdpChannelOption.UMEM_FRAME_COUNT, 100));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(XdpChannelOption.RING_SIZE, 1000));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(XdpChannelOption.COPY_FALLBACK_THRESHOLD, 0.0));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(XdpChannelOption.INTERFACE, "a-very-long-interface-name"));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(io.netty.channel.ChannelOption.IP_TOS, 300));
            assertTrue(c.setOption(XdpChannelOption.UMEM_FRAME_SIZE, 4096));
            assertEquals(4096, c.getOption(XdpChannelOption.UMEM_FRAME_SIZE));
            assertEquals(XdpAttachMode.AUTO, c.getOption(XdpChannelOption.XDP_MODE));
        } finally {
            ch.unsafe().closeForcibly();
        }
    }

    @Test
    void bindingAnAddressThatNoInterfaceOwnsFailsClearly() {
        Bootstrap b = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(textAndSenderPort());
        Throwable cause = b.bind(new InetSocketAddress("10.255.254.253", 0)).awaitUninterruptibly().cause();
        assertNotNull(cause);
        assertTrue(cause.getMessage().contains("EADDRNOTAVAIL") || cause.getMessage().contains("not configured"),
                cause.getMessage());
    }

    @Test
    void wildcardBindWithAnUnknownInterfaceFailsClearly() {
        Bootstrap b = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.INTERFACE, "nxnope0").handler(textAndSenderPort());
        Throwable cause = b.bind(new InetSocketAddress(0)).awaitUninterruptibly().cause();
        assertNotNull(cause);
        assertTrue(cause.getMessage().contains("nxnope0"), cause.getMessage());
    }

    static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }
}
