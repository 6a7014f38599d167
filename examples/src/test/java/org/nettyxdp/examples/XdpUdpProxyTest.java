package org.nettyxdp.examples;

import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy on a veth test host: clients and the backend (a kernel UDP socket that answers
 * {@code "re:" + request}) live in the peer namespace, the proxy listens on the host end with XDP.
 * Root only.
 */
class XdpUdpProxyTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void relaysEachClientsRepliesToThatClientAndForgetsIdleClients() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Set<SocketAddress> backendSawFrom = ConcurrentHashMap.newKeySet();
        DatagramChannel backend = pair.peer().call(
                () -> DatagramChannel.open().bind(new InetSocketAddress(pair.peerV4(), 0)));
        try {
            Thread backendLoop = Thread.ofPlatform().daemon().name("backend").start(() -> serve(backend, backendSawFrom));
            XdpUdpProxy proxy = XdpUdpProxy.start(LOOPS.group(), new InetSocketAddress(pair.hostV4(), 0),
                    (InetSocketAddress) backend.getLocalAddress(), null, XdpAttachMode.AUTO, 1);
            List<DatagramChannel> clients = new ArrayList<>();
            try {
                assertTrue(proxy.channel().isFastPathActive(), Cli.fastPathSummary(proxy.channel()));
                InetSocketAddress target = proxy.channel().localAddress();
                for (int c = 0; c < 3; c++) {
                    DatagramChannel client = pair.peer().call(
                            () -> DatagramChannel.open().bind(new InetSocketAddress(pair.peerV4(), 0)));
                    client.socket().setSoTimeout(2000);
                    clients.add(client);
                }
                int rounds = 200;
                byte[] buf = new byte[2048];
                for (int i = 0; i < rounds; i++) {
                    // every client sends before any reads, so replies for several clients are in flight at once
                    for (int c = 0; c < clients.size(); c++) {
                        clients.get(c).send(ByteBuffer.wrap(("client " + c + " #" + i).getBytes(StandardCharsets.UTF_8)),
                                target);
                    }
                    for (int c = 0; c < clients.size(); c++) {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                        clients.get(c).socket().receive(p);
                        assertEquals(target, p.getSocketAddress());
                        assertEquals("re:client " + c + " #" + i,
                                new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                    }
                }
                assertEquals(clients.size(), backendSawFrom.size(), "one backend socket per client: " + backendSawFrom);
                int total = rounds * clients.size();
                XdpChannelMetrics m = XdpEchoServerTest.awaitMetrics(proxy.channel(),
                        x -> x.txFastPackets() + x.txSlowPackets() == total);
                assertEquals(total, m.rxFastPackets(), m.toString());
                assertEquals(total, m.txFastPackets() + m.txSlowPackets(), m.toString());
                assertEquals(clients.size(), proxy.clients());

                long deadline = System.nanoTime() + 5_000_000_000L;
                while (proxy.clients() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(0, proxy.clients(), "backend channels idle for 1 s are closed");

                // a client coming back after expiry gets a new backend channel and its replies
                DatagramChannel again = clients.get(0);
                again.send(ByteBuffer.wrap("back".getBytes(StandardCharsets.UTF_8)), target);
                java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                again.socket().receive(p);
                assertEquals("re:back", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                assertEquals(clients.size() + 1, backendSawFrom.size());
            } finally {
                proxy.channel().close().sync();
                for (DatagramChannel client : clients) {
                    client.close();
                }
                backend.close(); // ends the backend loop
                backendLoop.join(2000);
            }
            assertEquals(0, proxy.clients(), "closing the proxy closes its backend channels");
        } finally {
            backend.close();
        }
    }

    /** Answers every datagram with {@code "re:" + datagram} until the socket closes. */
    private static void serve(DatagramChannel backend, Set<SocketAddress> sawFrom) {
        ByteBuffer in = ByteBuffer.allocate(2048);
        try {
            for (;;) {
                in.clear();
                SocketAddress from = backend.receive(in);
                sawFrom.add(from);
                in.flip();
                ByteBuffer out = ByteBuffer.allocate(3 + in.remaining());
                out.put("re:".getBytes(StandardCharsets.UTF_8)).put(in).flip();
                backend.send(out, from);
            }
        } catch (java.io.IOException closed) {
            // the test is over
        }
    }
}
