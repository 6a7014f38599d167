package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.testing.EchoClient;
import org.nettyxdp.testing.EchoHandler;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XdpEchoTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void echoesIpv4OverVethInDriverMode() throws Exception {
        echo(XdpAttachMode.DRV, false, 10_000);
    }

    @Test
    void echoesIpv4OverVethInGenericMode() throws Exception {
        echo(XdpAttachMode.SKB, false, 2000);
    }

    @Test
    void echoesIpv6OverVeth() throws Exception {
        echo(XdpAttachMode.AUTO, true, 10_000);
    }

    private void echo(XdpAttachMode mode, boolean ipv6, int count) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetAddress serverIp = ipv6 ? pair.hostV6() : pair.hostV4();
        InetAddress clientIp = ipv6 ? pair.peerV6() : pair.peerV4();
        Channel server = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, mode)
                .handler(new EchoHandler())
                .bind(new InetSocketAddress(serverIp, 0)).sync().channel();
        try {
            XdpDatagramChannel ch = (XdpDatagramChannel) server;
            assertTrue(ch.isFastPathActive(), "fast path on " + pair.hostIf());
            assertEquals(pair.hostIf(), ch.fastPathInterface());
            InetSocketAddress target = ch.localAddress();
            // the largest payload that fits the 1500-byte MTU unfragmented: fragments take the kernel path
            int maxPayload = ipv6 ? 1452 : 1472;
            int received = EchoClient.randomEchoes(pair, clientIp, target, count, maxPayload, 42);
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(count, received, "echoes received; metrics: " + m);
            assertEquals(count, m.rxFastPackets(), m.toString());
            // the first echoes to a new destination take the kernel socket while its next hop is resolved
            // off the event loop; every later one takes the fast path
            assertEquals(count, m.txFastPackets() + m.txSlowPackets(), m.toString());
            assertTrue(m.txFastPackets() >= count * 3 / 4, "kernel socket only while the next hop resolves: " + m);
            assertEquals(m.txFastPackets(), m.txZeroCopy(), "every fast echo reused its RX frame: " + m);
            assertEquals(0, m.dropped(), m.toString());
            assertEquals(0, m.rxCopied(), "zero-copy RX: " + m);
            Thread.sleep(100);
            for (FrameAccounting a : ch.frameAccounting()) {
                assertTrue(a.balanced(), a.toString());
                assertEquals(0, a.application(), a.toString());
                assertEquals(0, a.tx(), a.toString());
            }
        } finally {
            server.close().sync();
        }
    }
}
