package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A {@link SegmentedDatagramPacket} leaves as its segments, each its own datagram, as epoll's UDP_SEGMENT does. */
class SegmentedDatagramTest {
    private static final int SEGMENTS = 64;
    private static final int SEGMENT_SIZE = 1200;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** Answers every datagram with one segmented packet: segment i is filled with byte i. */
    private static final class SegmentedReply extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
            ByteBuf content = ctx.alloc().directBuffer(SEGMENTS * SEGMENT_SIZE);
            for (int i = 0; i < SEGMENTS; i++) {
                for (int j = 0; j < SEGMENT_SIZE; j++) {
                    content.writeByte(i);
                }
            }
            ctx.writeAndFlush(new SegmentedDatagramPacket(content, SEGMENT_SIZE, msg.sender()));
        }
    }

    @ParameterizedTest(name = "fastPath={0}")
    @ValueSource(booleans = {true, false})
    void sendsEachSegmentAsItsOwnDatagram(boolean fastPath) throws Exception {
        assertTrue(XdpDatagramChannel.isSegmentedDatagramPacketSupported());
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel server = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.FAST_PATH, fastPath)
                .handler(new SegmentedReply())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertEquals(fastPath, server.isFastPathActive());
            InetSocketAddress target = server.localAddress();
            List<List<Integer>> rounds = pair.peer().call(() -> {
                List<List<Integer>> result = new ArrayList<>();
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    client.socket().setSoTimeout(2000);
                    client.socket().setReceiveBufferSize(1 << 20);
                    // round 1 also makes the host learn the client's MAC; round 2 then takes the fast path
                    for (int round = 0; round < 2; round++) {
                        client.send(ByteBuffer.wrap(new byte[] {1}), target);
                        List<Integer> got = new ArrayList<>();
                        try {
                            while (got.size() < SEGMENTS) {
                                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2048], 2048);
                                client.socket().receive(p);
                                byte first = p.getData()[0];
                                boolean uniform = true;
                                for (int j = 0; j < p.getLength(); j++) {
                                    uniform &= p.getData()[j] == first;
                                }
                                got.add(uniform ? p.getLength() * 1000 + first : -1);
                            }
                        } catch (SocketTimeoutException e) {
                            // fewer than SEGMENTS: asserted below
                        }
                        result.add(got);
                        Thread.sleep(200);
                    }
                }
                return result;
            });
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < SEGMENTS; i++) {
                expected.add(SEGMENT_SIZE * 1000 + i);
            }
            XdpChannelMetrics m = server.eventLoop().submit(server::metrics).get();
            assertEquals(expected, rounds.get(0), "round 1: one datagram per segment, in order; " + m);
            assertEquals(expected, rounds.get(1), "round 2: one datagram per segment, in order; " + m);
            assertEquals(2L * SEGMENTS, m.txFastPackets() + m.txSlowPackets(), m.toString());
            if (fastPath) {
                assertTrue(m.txFastPackets() >= SEGMENTS, "round 2 on the fast path: " + m);
            } else {
                assertEquals(0, m.txFastPackets(), m.toString());
            }
        } finally {
            server.close().sync();
        }
    }
}
