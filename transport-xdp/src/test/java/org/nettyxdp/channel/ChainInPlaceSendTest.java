package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.ParanoidLeaks;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A received multi-buffer datagram written back leaves over the frames it arrived in (headers in the
 * first frame's headroom, one TX descriptor per frame), and whatever the handler did to it before
 * writing, the peer receives exactly the datagram it wrote: modified in place and cut short still go
 * in place; moved on, written twice or grown with bytes of another buffer go as a copy. Over a veth
 * pair with MTU 9000 in native and generic mode; leak detection PARANOID, every frame back.
 */
class ChainInPlaceSendTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    private static final int SIZE = 8000;
    private static final byte ECHO = 0;
    private static final byte MODIFY = 1;
    private static final byte CUT_SHORT = 2;
    private static final byte SKIP = 3;
    private static final byte TWICE = 4;
    private static final byte GROWN = 5;
    private static final byte KEPT = 6;
    private static final byte[] TAIL = "tail".getBytes(StandardCharsets.US_ASCII);

    @ParameterizedTest
    @EnumSource(value = XdpAttachMode.class, names = {"DRV", "SKB"})
    void whatTheHandlerWroteIsWhatLeaves(XdpAttachMode mode) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Shell.run("ip link set " + pair.hostIf() + " mtu 9000");
        pair.peer().exec("ip link set " + pair.peerIf() + " mtu 9000");
        pair.disablePeerChecksumOffload();
        BlockingQueue<String> kept = new LinkedBlockingQueue<>();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.XDP_MODE, mode)
                .handler(new Shaper(kept))
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive());
            assertTrue(ch.metrics().modes().multiBuffer(), ch.metrics().modes().toString());
            InetSocketAddress target = ch.localAddress();
            pair.peer().call(() -> {
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    client.socket().setSoTimeout(2000);
                    Random random = new Random(SIZE);
                    // the first replies take the kernel socket while the peer's next hop resolves
                    for (int i = 0; i < 100 && metrics(ch).txFastPackets() == 0; i++) {
                        roundTrip(client, target, datagram(random, ECHO), 1);
                        Thread.sleep(20);
                    }
                    assertTrue(metrics(ch).txFastPackets() > 0, "the fast path sends: " + metrics(ch));
                    int onFastPath = 0;
                    for (int round = 0; round < 20; round++) {
                        for (byte m = ECHO; m <= KEPT; m++) {
                            onFastPath += check(ch, client, target, datagram(random, m)) ? 1 : 0;
                        }
                    }
                    assertTrue(onFastPath >= 20 * 7 * 9 / 10, onFastPath + " of 140 on the fast path");
                    return null;
                }
            });
            XdpChannelMetrics m = metrics(ch);
            assertEquals(0, m.dropped(), m.toString());
            assertEquals(m.rxFastPackets() + 20, m.txFastPackets() + m.txSlowPackets(), "one more per TWICE: " + m);
            assertEquals(20, kept.size(), "every KEPT datagram checked");
            for (String verdict : kept) {
                assertEquals("intact", verdict);
            }
            MultiBufferTest.assertBalanced(ch);
        } finally {
            ch.close().sync();
        }
    }

    /**
     * Sends one datagram of mode {@code d[0]}, checks the reply and how it was sent; false if a reply
     * took the kernel socket (its content is checked all the same).
     */
    private static boolean check(XdpDatagramChannel ch, DatagramChannel client, InetSocketAddress target, byte[] d)
            throws Exception {
        XdpChannelMetrics before = metrics(ch);
        byte[] expected = expected(d);
        int replies = d[0] == TWICE ? 2 : 1;
        byte[][] got = roundTrip(client, target, d, replies);
        for (int i = 0; i < replies; i++) {
            assertNotNull(got[i], "reply " + i + " to mode " + d[0]);
            assertArrayEquals(expected, got[i], "reply " + i + " to mode " + d[0]);
        }
        XdpChannelMetrics after = metrics(ch);
        long fast = after.txFastPackets() - before.txFastPackets();
        long slow = after.txSlowPackets() - before.txSlowPackets();
        long inPlace = after.txZeroCopy() - before.txZeroCopy();
        assertEquals(replies, fast + slow, "mode " + d[0] + ": " + before + " -> " + after);
        if (slow > 0) {
            return false; // the peer's next hop was being refreshed: the kernel socket sent it
        }
        assertEquals(replies, after.txMultiBuffer() - before.txMultiBuffer(), "as chains: " + after);
        boolean copied = d[0] == SKIP || d[0] == GROWN;
        assertEquals(copied ? 0 : 1, inPlace, "mode " + d[0] + " in place: " + after);
        return true;
    }

    private static byte[] datagram(Random random, byte mode) {
        byte[] d = new byte[SIZE - 1000 + random.nextInt(1000 + 1)];
        random.nextBytes(d);
        d[0] = mode;
        return d;
    }

    /** What the {@link Shaper} writes back for {@code d}. */
    private static byte[] expected(byte[] d) {
        switch (d[0]) {
            case MODIFY: {
                byte[] e = d.clone();
                for (int i = 1; i < e.length; i += 997) {
                    e[i] ^= (byte) 0xFF;
                }
                return e;
            }
            case CUT_SHORT:
                return Arrays.copyOf(d, d.length - 2500);
            case SKIP:
                return Arrays.copyOfRange(d, 10, d.length);
            case GROWN: {
                byte[] e = Arrays.copyOf(d, d.length + TAIL.length);
                System.arraycopy(TAIL, 0, e, d.length, TAIL.length);
                return e;
            }
            default:
                return d;
        }
    }

    private static byte[][] roundTrip(DatagramChannel client, InetSocketAddress target, byte[] d, int replies)
            throws Exception {
        client.send(ByteBuffer.wrap(d), target);
        byte[][] got = new byte[replies][];
        for (int i = 0; i < replies; i++) {
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[9100], 9100);
            try {
                client.socket().receive(p);
                got[i] = Arrays.copyOf(p.getData(), p.getLength());
            } catch (SocketTimeoutException e) {
                break;
            }
        }
        return got;
    }

    private static XdpChannelMetrics metrics(XdpDatagramChannel ch) throws Exception {
        return ch.eventLoop().submit(ch::metrics).get(5, TimeUnit.SECONDS);
    }

    /** Writes back each datagram shaped as its first byte says. */
    private static final class Shaper extends SimpleChannelInboundHandler<DatagramPacket> {
        private final BlockingQueue<String> kept;

        Shaper(BlockingQueue<String> kept) {
            super(false);
            this.kept = kept;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ByteBuf content = packet.content();
            InetSocketAddress to = packet.sender();
            switch (content.getByte(0)) {
                case MODIFY:
                    for (int i = 1; i < content.readableBytes(); i += 997) {
                        content.setByte(i, content.getByte(i) ^ 0xFF);
                    }
                    ctx.write(new DatagramPacket(content, to));
                    break;
                case CUT_SHORT:
                    ctx.write(new DatagramPacket(content.retainedSlice(0, content.readableBytes() - 2500), to));
                    content.release();
                    break;
                case SKIP:
                    content.skipBytes(10);
                    ctx.write(new DatagramPacket(content, to));
                    break;
                case TWICE:
                    ctx.write(new DatagramPacket(content.retain(), to));
                    ctx.write(new DatagramPacket(content, to));
                    break;
                case GROWN:
                    ctx.write(new DatagramPacket(Unpooled.wrappedBuffer(content, Unpooled.wrappedBuffer(TAIL)), to));
                    break;
                case KEPT: {
                    // the handler keeps a view of what it wrote: sending in place must not change a byte of it
                    byte[] before = ByteBufUtil.getBytes(content);
                    ByteBuf view = content.retainedDuplicate();
                    ctx.write(new DatagramPacket(content, to)).addListener(f -> {
                        try {
                            kept.add(f.isSuccess() && Arrays.equals(before, ByteBufUtil.getBytes(view)) ? "intact"
                                    : "changed or failed: " + f.cause());
                        } finally {
                            view.release();
                        }
                    });
                    break;
                }
                default:
                    ctx.write(new DatagramPacket(content, to));
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
