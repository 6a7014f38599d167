package org.nettyxdp.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two echo channels with SO_REUSEPORT on a 2-queue veth: one queue each, both echo. Root only. */
class XdpReusePortEchoServerTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(2);

    @Test
    void twoChannelsOnTwoLoopsSplitTheQueuesAndEcho() throws Exception {
        VethPair pair = HOSTS.vethPair(2);
        List<XdpDatagramChannel> channels = XdpReusePortEchoServer.start(LOOPS.group(), 2,
                new InetSocketAddress(pair.hostV4(), 0), null, XdpAttachMode.AUTO);
        try {
            XdpDatagramChannel a = channels.get(0);
            XdpDatagramChannel b = channels.get(1);
            assertTrue(a.isFastPathActive() && b.isFastPathActive());
            assertNotEquals(a.eventLoop(), b.eventLoop(), "one channel per loop");
            assertEquals(a.localAddress(), b.localAddress());
            assertArrayEquals(new int[] {0}, a.fastPathQueues());
            assertArrayEquals(new int[] {1}, b.fastPathQueues());
            int flows = 32;
            int echoed = pair.peer().call(() -> {
                int ok = 0;
                for (int f = 0; f < flows; f++) {
                    try (DatagramSocket c = new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0))) {
                        c.setSoTimeout(2000);
                        byte[] msg = ("flow " + f).getBytes();
                        c.send(new DatagramPacket(msg, msg.length, a.localAddress()));
                        c.receive(new DatagramPacket(new byte[64], 64));
                        ok++;
                    }
                }
                return ok;
            });
            assertEquals(flows, echoed);
            long ra = a.eventLoop().submit(() -> a.metrics().rxFastPackets()).get();
            long rb = b.eventLoop().submit(() -> b.metrics().rxFastPackets()).get();
            assertEquals(flows, ra + rb, "each datagram reached one channel");
            assertTrue(ra > 0 && rb > 0, "both channels served flows: " + ra + " / " + rb);
        } finally {
            for (XdpDatagramChannel ch : channels) {
                ch.close().sync();
            }
        }
    }
}
