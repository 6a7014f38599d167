package org.nettyxdp.channel;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wildcard and implicit binds get the fast path, as the kernel's wildcard socket gets every local
 * address. A wildcard server here always runs inside a test namespace (its event loop lives there),
 * so XDP attaches to that namespace's {@code lo} and veth, never to the host's.
 */
class WildcardBindTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void wildcardBindServesEveryInterfaceOfItsNamespace() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        NetNs ns = pair.peer();
        // the interface filter keeps wildcard binds in the host's namespace on our veths; this server
        // runs in its own namespace, where every interface is ours
        String filter = System.clearProperty(TestHosts.WILDCARD_INTERFACES);
        EventLoopGroup group = ns.call(() -> {
            EventLoopGroup g = new XdpEventLoopGroup(1);
            g.submit(() -> { }).sync(); // starts the loop's thread from inside the namespace
            return g;
        });
        try {
            XdpDatagramChannel server = ns.call(() -> (XdpDatagramChannel) new Bootstrap().group(group)
                    .channel(XdpDatagramChannel.class).handler(new EchoHandler())
                    .bind(new InetSocketAddress(0)).sync().channel());
            restore(filter);
            try {
                assertTrue(server.fastPathInterfaces().contains("lo"), server.fastPathInterfaces().toString());
                assertTrue(server.fastPathInterfaces().contains(pair.peerIf()), server.fastPathInterfaces().toString());
                int port = server.localAddress().getPort();
                // over the veth, both families, from the host namespace
                echo(null, pair.hostV4(), new InetSocketAddress(pair.peerV4(), port), 100);
                echo(null, pair.hostV6(), new InetSocketAddress(pair.peerV6(), port), 100);
                XdpChannelMetrics m = metrics(server);
                assertEquals(200, m.rxFastPackets(), m.toString());
                // on the namespace's lo
                echo(ns, InetAddress.getByName("::1"), new InetSocketAddress(InetAddress.getByName("::1"), port), 100);
                m = metrics(server);
                assertEquals(300, m.rxFastPackets(), m.toString());
                assertEquals(0, m.dropped(), m.toString());

                // an interface that appears later gets its own sockets
                String extra = pair.peerIf() + "x";
                ns.exec("ip link add " + extra + " type veth peer name " + extra + "y");
                ns.exec("ip link set " + extra + " up");
                ns.exec("ip link set " + extra + "y up");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (!server.fastPathInterfaces().contains(extra) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(server.fastPathInterfaces().contains(extra), server.fastPathInterfaces().toString());
            } finally {
                server.close().sync();
            }
        } finally {
            restore(filter);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void firstWriteOfAnUnboundChannelTakesTheFastPathOfTheRoute() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (DatagramSocket peer = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            Thread echo = echoer(peer);
            InetSocketAddress to = new InetSocketAddress(pair.peerV4(), peer.getLocalPort());
            BlockingQueue<DatagramPacket> replies = new LinkedBlockingQueue<>();
            XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                    .channel(XdpDatagramChannel.class).option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(collector(replies)).register().sync().channel();
            try {
                ch.writeAndFlush(new DatagramPacket(Unpooled.copyInt(-1), to)).sync();
                DatagramPacket first = replies.poll(2, TimeUnit.SECONDS);
                assertNotNull(first, "first echo");
                first.release();
                // the first writes take the kernel socket until the fast path has joined and knows the peer
                long deadline = System.nanoTime() + 5_000_000_000L;
                long fastBefore = metrics(ch).txFastPackets();
                while (metrics(ch).txFastPackets() == fastBefore && System.nanoTime() < deadline) {
                    ch.writeAndFlush(new DatagramPacket(Unpooled.copyInt(-1), to)).sync();
                    DatagramPacket prime = replies.poll(2, TimeUnit.SECONDS);
                    assertNotNull(prime, "priming echo");
                    prime.release();
                    Thread.sleep(5);
                }
                XdpChannelMetrics before = metrics(ch);
                for (int i = 0; i < 50; i++) {
                    ch.writeAndFlush(new DatagramPacket(Unpooled.copyInt(i), to)).sync();
                    DatagramPacket reply = replies.poll(2, TimeUnit.SECONDS);
                    assertNotNull(reply, "echo " + i);
                    assertEquals(i, reply.content().getInt(reply.content().readerIndex()));
                    reply.release();
                }
                assertTrue(ch.isFastPathActive());
                assertEquals(pair.hostIf(), ch.fastPathInterface());
                XdpChannelMetrics m = metrics(ch);
                // a next hop the (asynchronous) cache has not resolved yet sends one reply through the kernel
                assertTrue(m.txFastPackets() - before.txFastPackets() >= 48, m.toString());
                assertEquals(50, m.txFastPackets() + m.txSlowPackets() - before.txFastPackets() - before.txSlowPackets(),
                        m.toString());
                assertTrue(m.rxFastPackets() - before.rxFastPackets() >= 49, m.toString());
            } finally {
                ch.close().sync();
                echo.interrupt();
            }
        }
    }

    @Test
    void connectWithoutBindTakesTheFastPathOfTheRoute() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (DatagramSocket peer = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            Thread echo = echoer(peer);
            InetSocketAddress to = new InetSocketAddress(pair.peerV4(), peer.getLocalPort());
            BlockingQueue<DatagramPacket> replies = new LinkedBlockingQueue<>();
            Channel ch = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .handler(collector(replies)).connect(to).sync().channel();
            XdpDatagramChannel x = (XdpDatagramChannel) ch;
            try {
                assertTrue(x.isFastPathActive());
                assertEquals(pair.hostIf(), x.fastPathInterface());
                // the first datagram leaves through the kernel, which resolves the neighbour; once it is
                // known (and the fast path's remembered miss has expired) the fast path sends
                ch.writeAndFlush(Unpooled.copyInt(-1)).sync();
                assertNotNull(replies.poll(2, TimeUnit.SECONDS), "first echo");
                Thread.sleep(200);
                XdpChannelMetrics before = metrics(x);
                for (int i = 0; i < 50; i++) {
                    ch.writeAndFlush(Unpooled.copyInt(i)).sync();
                    DatagramPacket reply = replies.poll(2, TimeUnit.SECONDS);
                    assertNotNull(reply, "echo " + i);
                    reply.release();
                }
                XdpChannelMetrics m = metrics(x);
                assertTrue(m.txFastPackets() - before.txFastPackets() >= 48, m.toString());
                assertEquals(50, m.rxFastPackets() - before.rxFastPackets(), m.toString());
            } finally {
                ch.close().sync();
                echo.interrupt();
            }
        }
    }

    private static void restore(String filter) {
        if (filter != null) {
            System.setProperty(TestHosts.WILDCARD_INTERFACES, filter);
        }
    }

    private static XdpChannelMetrics metrics(XdpDatagramChannel ch) throws Exception {
        Thread.sleep(50);
        return ch.eventLoop().submit(ch::metrics).get();
    }

    private static SimpleChannelInboundHandler<DatagramPacket> collector(BlockingQueue<DatagramPacket> out) {
        return new SimpleChannelInboundHandler<>(false) {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                out.add(p.replace(Unpooled.copiedBuffer(p.content())));
                p.release();
            }
        };
    }

    private static Thread echoer(DatagramSocket s) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[2048];
            java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
            while (!Thread.currentThread().isInterrupted() && !s.isClosed()) {
                try {
                    p.setLength(buf.length);
                    s.receive(p);
                    s.send(p);
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "echoer");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Sends {@code n} datagrams from {@code from} (in {@code ns}, or here) to {@code to}; all must come back. */
    private static void echo(NetNs ns, InetAddress from, InetSocketAddress to, int n) throws Exception {
        java.util.concurrent.Callable<Integer> run = () -> {
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
                s.setSoTimeout(2000);
                int ok = 0;
                for (int i = 0; i < n; i++) {
                    byte[] b = ("echo " + i).getBytes();
                    s.send(new java.net.DatagramPacket(b, b.length, to));
                    java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[64], 64);
                    s.receive(p);
                    ok++;
                }
                return ok;
            }
        };
        assertEquals(n, ns == null ? run.call() : ns.call(run));
    }
}
