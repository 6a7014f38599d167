package org.nettyxdp.channel;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TX ring that never drains (the interface is down: every kick fails with ENETDOWN and the ring
 * keeps its descriptors) fails the waiting writes after {@link XdpChannelOption#TX_DRAIN_TIMEOUT_MILLIS},
 * counts them, and the channel serves again once the interface is back up.
 */
class TxDrainTimeoutTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void writesToARingThatNeverDrainsFailAfterTheTimeout() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.RING_SIZE, 64)
                .option(XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS, 200)
                .handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramChannel client = pair.peer().call(() -> {
            DatagramChannel c = DatagramChannel.open();
            c.bind(new InetSocketAddress(pair.peerV4(), 0));
            c.socket().setSoTimeout(2000);
            return c;
        })) {
            assertTrue(server.isFastPathActive());
            InetSocketAddress serverAt = server.localAddress();
            InetSocketAddress clientAt = (InetSocketAddress) client.getLocalAddress();
            // the first replies take the kernel socket while the client's next hop resolves (off the loop)
            long deadline = System.nanoTime() + 5_000_000_000L;
            long fastBefore;
            do {
                fastBefore = metrics(server).txFastPackets();
                assertEquals(20, echoes(pair, client, serverAt, 20));
            } while (metrics(server).txFastPackets() - fastBefore < 20 && System.nanoTime() < deadline);
            assertEquals(20, metrics(server).txFastPackets() - fastBefore, "replies take the fast path");

            Shell.run("ip link set dev " + pair.hostIf() + " down");
            List<ChannelFuture> writes = server.eventLoop().submit(() -> {
                List<ChannelFuture> futures = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    futures.add(server.write(new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {(byte) i}),
                            clientAt)));
                }
                server.flush();
                return futures;
            }).get();
            int failed = 0;
            for (ChannelFuture f : writes) {
                assertTrue(f.await(30, TimeUnit.SECONDS), "every write completes");
                if (!f.isSuccess()) {
                    assertInstanceOf(TxDrainTimeoutException.class, f.cause(), f.cause().toString());
                    failed++;
                }
            }
            XdpChannelMetrics m = metrics(server);
            assertTrue(failed > 0 && failed < 500, "the ring took the first writes and then none: " + failed);
            assertEquals(failed, m.txDrainTimeouts(), m.toString());
            assertTrue(m.txKickErrors() > 0, "ENETDOWN: " + m);
            assertTrue(server.isOpen());

            // a later write waits afresh, and fails the same way
            ChannelFuture late = server.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {1}),
                    clientAt));
            assertTrue(late.await(30, TimeUnit.SECONDS));
            assertInstanceOf(TxDrainTimeoutException.class, late.cause());
            assertThrows(IllegalArgumentException.class,
                    () -> server.config().setOption(XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS, 0));

            Shell.run("ip link set dev " + pair.hostIf() + " up");
            int back = echoes(pair, client, serverAt, 50);
            assertTrue(back >= 45, "serves again after the link is back up: " + back + "; " + metrics(server));
        } finally {
            Shell.tryRun("ip link set dev " + pair.hostIf() + " up");
            server.close().sync();
        }
    }

    private static XdpChannelMetrics metrics(XdpDatagramChannel ch) throws Exception {
        return ch.eventLoop().submit(ch::metrics).get();
    }

    private static int echoes(VethPair pair, DatagramChannel client, InetSocketAddress target, int count)
            throws Exception {
        return pair.peer().call(() -> {
            int ok = 0;
            for (int i = 0; i < count; i++) {
                client.send(ByteBuffer.wrap(("echo " + i).getBytes()), target);
                try {
                    // skips what the stalled ring still held: it leaves with the first write after the link is up
                    java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[64], 64);
                    do {
                        client.socket().receive(p);
                    } while (!new String(p.getData(), 0, p.getLength()).equals("echo " + i));
                    ok++;
                } catch (SocketTimeoutException e) {
                    // counted by the caller
                }
            }
            return ok;
        });
    }
}
