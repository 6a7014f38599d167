package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Received buffers written back: the content handlers see indexes from 0, a reply goes out in the
 * received frame itself, and the same buffer written to two recipients reaches both (the second as
 * a copy: one frame cannot carry two sets of headers).
 */
class InPlaceSendTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void theSameReceivedBufferWrittenToTwoRecipientsReachesBoth() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        InetSocketAddress[] second = new InetSocketAddress[1];
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>(false) {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
                        var c = msg.content();
                        seen.add(c.getClass().getSimpleName() + " " + c.readerIndex() + " "
                                + (char) c.getByte(0) + " " + c.toString(StandardCharsets.US_ASCII));
                        ctx.write(new DatagramPacket(c.retain(), msg.sender()));
                        ctx.writeAndFlush(new DatagramPacket(c, second[0]));
                    }
                }).bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try (DatagramSocket a = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)));
             DatagramSocket b = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)))) {
            a.setSoTimeout(2000);
            b.setSoTimeout(2000);
            second[0] = new InetSocketAddress(pair.peerV4(), b.getLocalPort());
            // the first datagram out makes the kernel resolve the peer's MAC; later ones take the fast path
            ch.writeAndFlush(new DatagramPacket(Unpooled.copiedBuffer("prime", StandardCharsets.US_ASCII),
                    second[0])).sync();
            assertEquals("prime", receive(pair, b));
            Thread.sleep(org.nettyxdp.xsk.NextHops.RETRY_NANOS / 1_000_000 * 2);
            int rounds = 10;
            for (int i = 0; i < rounds; i++) {
                String text = "twice-" + i;
                byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
                pair.peer().call(() -> {
                    a.send(new java.net.DatagramPacket(bytes, bytes.length, ch.localAddress()));
                    return null;
                });
                assertEquals(UmemByteBuf.class.getSimpleName() + " 0 t " + text, seen.poll(2, TimeUnit.SECONDS));
                assertEquals(text, receive(pair, a), "the sender's copy");
                assertEquals(text, receive(pair, b), "the second recipient's");
            }
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(rounds, m.txZeroCopy(), "one reply per round in place: " + m);
            Thread.sleep(50);
            FrameAccounting acc = ch.frameAccounting()[0];
            assertTrue(acc.application() == 0 && acc.tx() == 0, acc.toString());
        } finally {
            ch.close().sync();
        }
    }

    private static String receive(VethPair pair, DatagramSocket s) throws Exception {
        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[100], 100);
        pair.peer().call(() -> {
            s.receive(p);
            return null;
        });
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
    }
}
