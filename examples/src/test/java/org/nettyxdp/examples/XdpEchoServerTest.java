package org.nettyxdp.examples;

import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The echo server on a veth test host, echoing datagrams sent from the peer namespace. Root only. */
class XdpEchoServerTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void echoesOnTheFastPathWithoutCopying() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server = XdpEchoServer.start(LOOPS.group(), new InetSocketAddress(pair.hostV4(), 0), null,
                XdpAttachMode.AUTO);
        try {
            assertTrue(server.isFastPathActive(), Cli.fastPathSummary(server));
            assertEquals(pair.hostIf(), server.fastPathInterface());
            int n = 1000;
            echo(pair, pair.peerV4(), server.localAddress(), n);
            XdpChannelMetrics m = server.metrics();
            assertEquals(n, m.rxFastPackets(), m.toString());
            // replies to a new peer take the kernel socket until its next hop is resolved (off the event loop)
            assertEquals(n, m.txFastPackets() + m.txSlowPackets(), m.toString());
            assertTrue(m.txFastPackets() >= n * 3 / 4, m.toString());
            assertEquals(m.txFastPackets(), m.txZeroCopy(), "every fast reply left in the frame its request arrived in: " + m);
            assertEquals(0, m.dropped(), m.toString());
            assertTrue(Cli.stats(server).startsWith("fast path: rx " + n + " tx " + m.txFastPackets()), Cli.stats(server));
        } finally {
            server.close().sync();
        }
    }

    @Test
    void wildcardBindTakesTheFastPathOfTheNamedInterface() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server = XdpEchoServer.start(LOOPS.group(), new InetSocketAddress(0), pair.hostIf(),
                XdpAttachMode.SKB);
        try {
            assertTrue(server.isFastPathActive(), Cli.fastPathSummary(server));
            int port = server.localAddress().getPort();
            echo(pair, pair.peerV4(), new InetSocketAddress(pair.hostV4(), port), 200);
            echo(pair, pair.peerV6(), new InetSocketAddress(pair.hostV6(), port), 200);
            XdpChannelMetrics m = awaitMetrics(server, x -> x.txFastPackets() + x.txSlowPackets() == 400);
            assertEquals(400, m.rxFastPackets(), m.toString());
            assertEquals(400, m.txFastPackets() + m.txSlowPackets(), m.toString());
            assertTrue(m.txFastPackets() > 0, "replies leave on the fast path too: " + m);
        } finally {
            server.close().sync();
        }
    }

    @Test
    void wildcardBindWithoutInterfaceStillEchoesThroughTheKernel() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server = XdpEchoServer.start(LOOPS.group(), new InetSocketAddress(0), null, XdpAttachMode.AUTO);
        try {
            assertFalse(server.isFastPathActive());
            assertTrue(Cli.fastPathSummary(server).contains("without --interface"), Cli.fastPathSummary(server));
            echo(pair, pair.peerV4(), new InetSocketAddress(pair.hostV4(), server.localAddress().getPort()), 100);
            // the event loop counts a kernel send right after it, so the last echo may arrive first
            XdpChannelMetrics m = awaitMetrics(server, x -> x.txSlowPackets() == 100);
            assertEquals(0, m.rxFastPackets(), m.toString());
            assertEquals(100, m.rxSlowPackets(), m.toString());
            assertEquals(100, m.txSlowPackets(), m.toString());
        } finally {
            server.close().sync();
        }
    }

    /** The server's metrics once {@code done} holds, or after a second. */
    static XdpChannelMetrics awaitMetrics(XdpDatagramChannel server, Predicate<XdpChannelMetrics> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + 1_000_000_000L;
        XdpChannelMetrics m = server.metrics();
        while (!done.test(m) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            m = server.metrics();
        }
        return m;
    }

    /** Sends {@code n} random datagrams from {@code from} (in the peer namespace) and checks every echo. */
    static void echo(VethPair pair, InetAddress from, InetSocketAddress server, int n) throws Exception {
        // a socket belongs to the namespace it was created in, whichever thread uses it later
        try (DatagramChannel client = pair.peer().call(() -> DatagramChannel.open().bind(new InetSocketAddress(from, 0)))) {
            client.socket().setSoTimeout(2000);
            Random random = new Random(7);
            byte[] reply = new byte[2048];
            for (int i = 0; i < n; i++) {
                byte[] payload = new byte[1 + random.nextInt(1400)];
                random.nextBytes(payload);
                client.send(ByteBuffer.wrap(payload), server);
                java.net.DatagramPacket p = new java.net.DatagramPacket(reply, reply.length);
                client.socket().receive(p);
                assertNotNull(p.getSocketAddress());
                assertEquals(server, p.getSocketAddress(), "reply " + i + " comes from the server's address");
                assertArrayEquals(payload, Arrays.copyOf(p.getData(), p.getLength()), "echo " + i);
            }
        }
    }
}
