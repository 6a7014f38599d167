package org.nettyxdp.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.testing.EchoHandler;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An echo channel on a veth test host with its meters in a {@link SimpleMeterRegistry}, while datagrams
 * flow from the peer namespace: every meter shows what {@link XdpDatagramChannel#metrics()} shows. Root only.
 */
class XdpChannelMetricsBinderTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    private static XdpDatagramChannel echoServer(VethPair pair) throws InterruptedException {
        return (XdpDatagramChannel) new Bootstrap()
                .group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
    }

    private static double counter(SimpleMeterRegistry registry, String name, String... tags) {
        FunctionCounter c = registry.find(name).tags(tags).functionCounter();
        assertNotNull(c, name + " " + String.join(",", tags) + " in " + registry.getMetersAsString());
        return c.count();
    }

    private static double gauge(SimpleMeterRegistry registry, String name, String... tags) {
        Gauge g = registry.find(name).tags(tags).gauge();
        assertNotNull(g, name + " " + String.join(",", tags) + " in " + registry.getMetersAsString());
        return g.value();
    }

    @Test
    void metersFollowTheChannelWhileTrafficFlows() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        XdpDatagramChannel server = echoServer(pair);
        try {
            XdpChannelMetricsBinder binder = XdpChannelMetricsBinder.bind(server, registry, Tags.of("app", "echo"));
            assertTrue(server.isFastPathActive());
            InetSocketAddress local = server.localAddress();
            assertEquals(Tags.of("app", "echo", "channel", server.id().asShortText(), "interface", pair.hostIf(),
                    "local.address", pair.hostV4().getHostAddress() + ":" + local.getPort()), binder.tags());
            for (Meter m : registry.getMeters()) {
                assertEquals(pair.hostIf(), m.getId().getTag("interface"), m.getId().toString());
                assertEquals("echo", m.getId().getTag("app"), m.getId().toString());
            }
            assertEquals(1, gauge(registry, "xdp.channel.fast.path.active"));
            assertEquals(0, counter(registry, "xdp.channel.packets", "direction", "rx", "path", "fast"));

            int n = 300;
            int payload = 100;
            try (DatagramChannel client = pair.peer().call(
                    () -> DatagramChannel.open().bind(new InetSocketAddress(pair.peerV4(), 0)))) {
                client.socket().setSoTimeout(2000);
                for (int i = 0; i < n; i++) {
                    client.send(ByteBuffer.allocate(payload), local);
                    java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2048], 2048);
                    client.socket().receive(p);
                    assertEquals(payload, p.getLength());
                    if (i == n / 2) {
                        // mid-traffic: the meters move with the channel
                        double rx = counter(registry, "xdp.channel.packets", "direction", "rx", "path", "fast");
                        assertTrue(rx >= n / 2 + 1 && rx <= n, "rx fast mid-traffic: " + rx);
                    }
                }
            }
            XdpChannelMetrics m = awaitTx(server, n);
            assertEquals(n, m.rxFastPackets(), m.toString());
            assertEquals(m.rxFastPackets(), counter(registry, "xdp.channel.packets", "direction", "rx", "path", "fast"));
            assertEquals(m.txFastPackets(), counter(registry, "xdp.channel.packets", "direction", "tx", "path", "fast"));
            assertEquals(m.rxSlowPackets(), counter(registry, "xdp.channel.packets", "direction", "rx", "path", "slow"));
            assertEquals(m.txSlowPackets(), counter(registry, "xdp.channel.packets", "direction", "tx", "path", "slow"));
            assertEquals((double) n * payload, counter(registry, "xdp.channel.bytes", "direction", "rx", "path", "fast"));
            assertEquals(m.txFastBytes(), counter(registry, "xdp.channel.bytes", "direction", "tx", "path", "fast"));
            assertEquals(m.txZeroCopy(), counter(registry, "xdp.channel.tx.zero.copy"));
            assertEquals(m.rxCopied(), counter(registry, "xdp.channel.rx.copied"));
            assertEquals(m.txRingFull(), counter(registry, "xdp.channel.tx.ring.full"));
            assertEquals(m.txKickErrors(), counter(registry, "xdp.channel.tx.kick.errors"));
            for (DropReason reason : DropReason.values()) {
                assertEquals((double) m.drops().get(reason), counter(registry, "xdp.channel.drops", "reason", reason.name()));
            }
            assertEquals(m.kernel().rxDropped(), counter(registry, "xdp.channel.kernel.rx.dropped"));
            assertEquals(m.kernel().rxRingFull(), counter(registry, "xdp.channel.kernel.rx.ring.full"));
            assertEquals(m.kernel().rxFillRingEmptyDescs(), counter(registry, "xdp.channel.kernel.rx.fill.ring.empty"));
            // the kernel counts an empty TX ring whenever it looks, also after the traffic
            double txRingEmpty = counter(registry, "xdp.channel.kernel.tx.ring.empty");
            assertTrue(txRingEmpty >= m.kernel().txRingEmptyDescs() && txRingEmpty > 0, "tx ring empty " + txRingEmpty);
            assertEquals(m.kernel().rxInvalidDescs(), counter(registry, "xdp.channel.kernel.rx.invalid.descs"));
            assertEquals(m.kernel().txInvalidDescs(), counter(registry, "xdp.channel.kernel.tx.invalid.descs"));

            FrameAccounting[] frames = server.frameAccounting();
            assertEquals(1, frames.length);
            assertEquals(frames[0].total(), gauge(registry, "xdp.channel.frames", "state", "total"));
            double parts = gauge(registry, "xdp.channel.frames", "state", "free")
                    + gauge(registry, "xdp.channel.frames", "state", "kernel.rx")
                    + gauge(registry, "xdp.channel.frames", "state", "application")
                    + gauge(registry, "xdp.channel.frames", "state", "tx");
            assertEquals(frames[0].total(), parts, "the frame gauges of one scrape add up");
            assertEquals(0, gauge(registry, "xdp.channel.frames", "state", "application"));
        } finally {
            server.close().sync();
        }
        awaitNoMeters(registry);
    }

    @Test
    void closeRemovesTheMetersAndTwoChannelsKeepTheirOwn() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        XdpDatagramChannel a = echoServer(pair);
        XdpDatagramChannel b = echoServer(pair);
        try {
            XdpChannelMetricsBinder ba = XdpChannelMetricsBinder.bind(a, registry);
            XdpChannelMetricsBinder.bind(b, registry);
            int perChannel = registry.getMeters().size() / 2;
            assertTrue(perChannel > 0);
            assertNotNull(registry.find("xdp.channel.fast.path.active").tag("channel", a.id().asShortText()).gauge());
            ba.close();
            ba.close();
            assertEquals(perChannel, registry.getMeters().size());
            assertNull(registry.find("xdp.channel.fast.path.active").tag("channel", a.id().asShortText()).gauge());
            assertNotNull(registry.find("xdp.channel.fast.path.active").tag("channel", b.id().asShortText()).gauge());
            assertTrue(a.isOpen(), "closing the binder leaves the channel open");
        } finally {
            a.close().sync();
            b.close().sync();
        }
        awaitNoMeters(registry);
    }

    @Test
    void aClosedChannelBindsNothing() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        XdpDatagramChannel server = echoServer(pair);
        XdpChannelMetricsBinder binder = new XdpChannelMetricsBinder(server);
        server.close().sync();
        binder.bindTo(registry);
        assertTrue(registry.getMeters().isEmpty(), registry.getMetersAsString());
    }

    /** Closing a channel removes its meters (from a listener of its close future, which may run just after). */
    private static void awaitNoMeters(SimpleMeterRegistry registry) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!registry.getMeters().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(registry.getMeters().isEmpty(), "closing the channel removes its meters: "
                + registry.getMetersAsString());
    }

    /** The channel's metrics once it has sent {@code n} datagrams (the counter follows the echo), or after 2 s. */
    private static XdpChannelMetrics awaitTx(XdpDatagramChannel server, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        XdpChannelMetrics m = server.metrics();
        while (m.txFastPackets() + m.txSlowPackets() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
            m = server.metrics();
        }
        return m;
    }
}
