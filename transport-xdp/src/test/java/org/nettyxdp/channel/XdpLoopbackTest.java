package org.nettyxdp.channel;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.TestHosts;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The channel on {@code lo} (generic XDP), inside a namespace of its own so that the sysctls the IPv4
 * fast path needs there can be set without touching the host.
 */
class XdpLoopbackTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    @Test
    void ipv4WithDefaultSysctlsReceivesOnTheFastPathAndRepliesThroughTheKernel() throws Exception {
        Result r = echo("127.0.0.1", false, 300);
        assertEquals(300, r.metrics.rxFastPackets(), r.metrics.toString());
        assertEquals(300, r.metrics.txSlowPackets(), "IPv4 replies on lo take the companion socket: " + r.metrics);
    }

    @Test
    void ipv4WithRouteLocalnetTakesTheFastPathBothWays() throws Exception {
        Result r = echo("127.0.0.1", true, 300);
        assertEquals(300, r.metrics.rxFastPackets(), r.metrics.toString());
        assertEquals(300, r.metrics.txFastPackets() + r.metrics.txSlowPackets(), r.metrics.toString());
        assertTrue(r.metrics.txFastPackets() >= 200, "kernel socket only while the next hop resolves: " + r.metrics);
    }

    @Test
    void ipv6TakesTheFastPathBothWays() throws Exception {
        Result r = echo("::1", false, 300);
        assertEquals(300, r.metrics.rxFastPackets(), r.metrics.toString());
        assertEquals(300, r.metrics.txFastPackets() + r.metrics.txSlowPackets(), r.metrics.toString());
        assertTrue(r.metrics.txFastPackets() >= 200, "kernel socket only while the next hop resolves: " + r.metrics);
    }

    @Test
    void datagramsLargerThanAFrameTakeTheFastPathAsChains() throws Exception {
        Result r = echo("::1", false, 5, 30_000);
        assertEquals(5, r.metrics.rxFastPackets(), "multi-buffer: oversize frames arrive as chains: " + r.metrics);
        assertEquals(5, r.metrics.rxMultiBuffer(), r.metrics.toString());
        assertEquals(0, r.metrics.dropped(), r.metrics.toString());
    }

    private record Result(XdpChannelMetrics metrics) {
    }

    private Result echo(String address, boolean localnet, int count) throws Exception {
        return echo(address, localnet, count, 1400);
    }

    private Result echo(String address, boolean localnet, int count, int size) throws Exception {
        NetNs ns = HOSTS.namespace();
        if (localnet) {
            ns.exec("sysctl -q -w net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.lo.accept_local=1");
        }
        return ns.call(() -> {
            EventLoopGroup group = new XdpEventLoopGroup(1);
            try {
                Channel server = new Bootstrap().group(group).channel(XdpDatagramChannel.class)
                        .handler(new EchoHandler())
                        .bind(new InetSocketAddress(InetAddress.getByName(address), 0)).sync().channel();
                XdpDatagramChannel ch = (XdpDatagramChannel) server;
                assertTrue(ch.isFastPathActive());
                assertEquals("lo", ch.fastPathInterface());
                Random random = new Random(7);
                try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0))) {
                    client.setSoTimeout(2000);
                    for (int i = 0; i < count; i++) {
                        byte[] payload = new byte[size == 1400 ? random.nextInt(size) : size];
                        random.nextBytes(payload);
                        client.send(new DatagramPacket(payload, payload.length, ch.localAddress()));
                        DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
                        client.receive(p);
                        assertArrayEquals(payload, Arrays.copyOf(p.getData(), p.getLength()), "datagram " + i);
                    }
                }
                XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
                server.close().sync();
                return new Result(m);
            } finally {
                group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            }
        });
    }
}
