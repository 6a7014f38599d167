package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Netty's HTTP/3 codec (over its QUIC codec) on the fast path: {@link XdpHttp3Server} on a veth test
 * host serves three 300 KB responses to Netty's HTTP/3 client in the peer namespace, the client on
 * XDP or on NIO, XDP attached natively or generically. Root only.
 */
class XdpHttp3Test {
    private static final int BODY = 300_000;
    private static final int REQUESTS = 3;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    private static QuicSslContext ssl;

    @BeforeAll
    static void certificate() throws Exception {
        ssl = XdpHttp3Server.selfSignedContext();
    }

    @ParameterizedTest(name = "server XDP {0}, client {1}")
    @CsvSource({"DRV, XDP", "DRV, NIO", "SKB, XDP", "SKB, NIO"})
    void servesThreeLargeResponsesOnTheFastPath(XdpAttachMode mode, String clientTransport) throws Exception {
        VethPair pair = HOSTS.vethPair(2); // two queues set explicitly: see PeerLoops
        XdpDatagramChannel server = XdpHttp3Server.start(LOOPS.group(), new InetSocketAddress(pair.hostV4(), 0),
                null, mode, ssl);
        boolean xdpClient = clientTransport.equals("XDP");
        EventLoopGroup clientGroup = xdpClient ? PeerLoops.xdp(pair.peer()) : PeerLoops.nio(pair.peer());
        try {
            assertTrue(server.isFastPathActive(), Cli.fastPathSummary(server));
            Bootstrap bootstrap = new Bootstrap().group(clientGroup).handler(XdpHttp3Client.codec());
            if (xdpClient) {
                bootstrap.channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, mode);
            } else {
                bootstrap.channel(NioDatagramChannel.class);
            }
            Channel client = pair.peer().call(() -> bootstrap.bind(new InetSocketAddress(pair.peerV4(), 0)).sync().channel());
            if (client instanceof XdpDatagramChannel c) {
                assertTrue(c.isFastPathActive(), Cli.fastPathSummary(c));
            }

            long start = System.nanoTime();
            List<XdpHttp3Client.Response> responses = XdpHttp3Client.get(client, server.localAddress(),
                    "/" + BODY, REQUESTS);
            System.out.printf("%s %s: %d x %d B in %.1f ms; server %s%n", mode, clientTransport, REQUESTS, BODY,
                    (System.nanoTime() - start) / 1e6, server.metrics());

            assertEquals(REQUESTS, responses.size());
            ByteBuf expected = XdpHttp3Server.body(BODY);
            try {
                for (XdpHttp3Client.Response r : responses) {
                    assertEquals("200", r.status());
                    assertEquals(BODY, r.body().length);
                    assertEquals(expected, Unpooled.wrappedBuffer(r.body()), "every byte of the body");
                }
            } finally {
                expected.release();
            }
            XdpChannelMetrics m = server.metrics();
            assertTrue(m.rxFastPackets() > 0, "requests arrived on the fast path: " + m);
            assertTrue(m.txFastPackets() > REQUESTS * BODY / 1500, "responses left on the fast path: " + m);
            assertEquals(0, m.rxCopied(), "every datagram reached the codec in its UMEM frame: " + m);
            assertEquals(0, m.dropped(), m.toString());
            if (client instanceof XdpDatagramChannel c) {
                XdpChannelMetrics cm = c.metrics();
                assertTrue(cm.rxFastPackets() > REQUESTS * BODY / 1500, "client received on the fast path: " + cm);
                assertTrue(cm.txFastPackets() > 0, "client sent on the fast path: " + cm);
                assertEquals(0, cm.rxCopied(), cm.toString());
            }
            client.close().sync();
            // the codec released every datagram it read: no UMEM frame is left with the application
            for (FrameAccounting a : server.frameAccounting()) {
                assertEquals(0, a.application(), "frames still held: " + a);
                assertTrue(a.balanced(), a.toString());
            }
        } finally {
            server.close().sync();
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
