package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.EchoClient;
import org.nettyxdp.testing.EchoHandler;
import org.nettyxdp.testing.QueueHolder;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.FastPathWait.awaitFastPath;

/**
 * A bind whose interface queue is busy (EBUSY: another AF_XDP socket holds it, or one closed moments
 * ago is not released yet) never blocks the event loop: the channel binds at once on its kernel socket,
 * serves through it, and gains the fast path on the event loop once the queue is free.
 */
class BusyQueueBindTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void aBusyQueueIsRetriedOnTheLoopWhileTheKernelSocketServes() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server;
        // a foreign AF_XDP socket with its own UMEM holds queue 0: every bind of ours there is EBUSY
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            server = bindEchoServer(pair);
            try {
                assertTrue(server.isActive(), "bound on the kernel socket");
                assertFalse(server.isFastPathActive(), "the queue is busy");
                // the loop is not parked by the retries: tasks run (the kernel socket serving meanwhile is
                // shown by the next test, whose queue stays busy)
                for (int i = 0; i < 5; i++) {
                    assertEquals(0, server.eventLoop().submit(() -> 0).get(1, TimeUnit.SECONDS));
                }
            } catch (Throwable t) {
                server.close();
                throw t;
            }
        }
        try {
            // the queue is free: the retry gets it
            awaitFastPath(server, "the fast path joined once the queue was free");
            assertEquals(100, EchoClient.echoes(pair, server.localAddress(), 100));
            XdpChannelMetrics m = metrics(server);
            assertTrue(m.rxFastPackets() > 0, m.toString());
        } finally {
            server.close().sync();
        }
    }

    @Test
    void aQueueThatStaysBusyLeavesTheChannelOnItsKernelSocket() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            XdpDatagramChannel server = bindEchoServer(pair);
            try {
                Thread.sleep(org.nettyxdp.xsk.FastPathSet.BUSY_TIMEOUT_MILLIS + 500);
                assertFalse(server.isFastPathActive());
                assertTrue(server.isActive());
                assertEquals(20, EchoClient.echoes(pair, server.localAddress(), 20), "the kernel socket serves");
                assertEquals(20, metrics(server).rxSlowPackets());
            } finally {
                server.close().sync();
            }
        }
    }

    @Test
    void closingWhileTheQueueIsBusyGivesEverythingBack() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetSocketAddress at;
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            XdpDatagramChannel server = bindEchoServer(pair);
            at = server.localAddress();
            assertFalse(server.isFastPathActive());
            server.close().sync();
        }
        Thread.sleep(200);
        // nothing of the abandoned opening steers the port: a plain kernel socket bound to it receives
        try (DatagramChannel kernel = DatagramChannel.open()) {
            kernel.bind(at);
            kernel.socket().setSoTimeout(2000);
            pair.peer().call(() -> {
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    client.send(ByteBuffer.wrap(new byte[] {7}), at);
                }
                return null;
            });
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[16], 16);
            kernel.socket().receive(p);
            assertEquals(1, p.getLength());
        }
        // and the queue is free for a new channel's fast path
        XdpDatagramChannel next = bindEchoServer(pair);
        try {
            awaitFastPath(next, "the queue was given back");
            assertEquals(20, EchoClient.echoes(pair, next.localAddress(), 20));
        } finally {
            next.close().sync();
        }
    }

    /** An echo server on the host side of {@code pair}, any port. */
    private static XdpDatagramChannel bindEchoServer(VethPair pair) throws InterruptedException {
        return (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.UMEM_FRAME_COUNT, 256)
                .handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
    }

    private static XdpChannelMetrics metrics(XdpDatagramChannel ch) throws Exception {
        return ch.eventLoop().submit(ch::metrics).get();
    }

}
