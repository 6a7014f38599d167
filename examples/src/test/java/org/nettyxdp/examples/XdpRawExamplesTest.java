package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpFrameFilter;
import org.nettyxdp.channel.XdpRawAddress;
import org.nettyxdp.channel.XdpRawChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The raw-channel examples' handlers on a veth test host: the reflector (both families) and the counter. */
class XdpRawExamplesTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void reflectorSendsEveryFrameBackInPlace() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        pair.disablePeerChecksumOffload();
        XdpRawChannel ch = XdpReflector.bind(LOOPS.group(), pair.hostIf(), 7);
        try {
            int n = 500;
            // the reflector answers from the address and port the datagrams were sent to, like an echo server
            XdpEchoServerTest.echo(pair, pair.peerV4(), new InetSocketAddress(pair.hostV4(), 7), n);
            XdpEchoServerTest.echo(pair, pair.peerV6(), new InetSocketAddress(pair.hostV6(), 7), n);
            XdpChannelMetrics m = ch.metrics();
            assertEquals(2 * n, m.rxFastPackets(), m.toString());
            assertEquals(2 * n, m.txZeroCopy(), "zero-copy end to end: " + m);
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void counterCountsByProtocol() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpProtocolCounter.Count count = new XdpProtocolCounter.Count();
        XdpRawChannel ch = (XdpRawChannel) new Bootstrap().group(LOOPS.group()).channel(XdpRawChannel.class)
                .handler(count)
                .bind(new XdpRawAddress(pair.hostIf(), XdpFrameFilter.ipv4Destination(pair.hostV4().getHostAddress())))
                .sync().channel();
        try {
            pair.peer().call(() -> {
                try (DatagramChannel c = DatagramChannel.open()) {
                    for (int i = 0; i < 100; i++) {
                        c.send(ByteBuffer.allocate(16), new InetSocketAddress(pair.hostV4(), 9000));
                    }
                }
                return null;
            });
            // an ICMP echo (isReachable as root); the counter takes it, so no reply comes
            pair.peer().call(() -> pair.hostV4().isReachable(300));
            for (int i = 0; i < 200 && count.v4.get(17) < 100; i++) {
                Thread.sleep(10);
            }
            assertEquals(100, count.v4.get(17), count.table().toString());
            org.junit.jupiter.api.Assertions.assertTrue(count.v4.get(1) >= 1, count.table().toString());
            assertEquals(Long.valueOf(100), count.table().get("IPv4 UDP"));
        } finally {
            ch.close().sync();
        }
    }
}
