package org.nettyxdp.channel;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.testing.EchoClient;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A channel whose read fails on the event loop (here: out of direct memory for the copy the fast path
 * makes once the application holds too many frames) is closed, its pipeline told why, while the other
 * channel on the same loop keeps serving and the failed channel's port is no longer steered.
 */
class EventLoopSurvivalTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void aChannelFailingOnTheLoopIsClosedAndTheOthersServeOn() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Channel echo = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        Hoarder hoarder = new Hoarder();
        // holding more than 1/64 of the frames makes RX copy, through an allocator out of direct memory
        Channel failing = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.COPY_FALLBACK_THRESHOLD, 1.0 / 64)
                .option(ChannelOption.ALLOCATOR, new OutOfDirectMemory())
                .handler(hoarder)
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(((XdpDatagramChannel) echo).isFastPathActive());
            assertTrue(((XdpDatagramChannel) failing).isFastPathActive());
            assertTrue(echo.eventLoop() == failing.eventLoop(), "one loop serves both");
            InetSocketAddress echoAt = (InetSocketAddress) echo.localAddress();
            InetSocketAddress failingAt = (InetSocketAddress) failing.localAddress();

            assertEquals(50, EchoClient.echoes(pair, echoAt, 50), "echoes before the failure");
            pair.peer().call(() -> {
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    for (int i = 0; i < 200 && failing.isOpen(); i++) {
                        client.send(ByteBuffer.wrap(new byte[] {(byte) i}), failingAt);
                        Thread.sleep(1);
                    }
                }
                return null;
            });
            assertTrue(hoarder.inactive.await(10, TimeUnit.SECONDS), "the failing channel closed");
            assertFalse(failing.isOpen());
            assertEquals(List.of("exceptionCaught", "channelInactive"), hoarder.events);
            assertInstanceOf(OutOfMemoryError.class, hoarder.cause);

            assertTrue(echo.isOpen());
            assertEquals(1000, EchoClient.echoes(pair, echoAt, 1000), "the other channel on the loop serves on");

            // the failed channel's port goes to the kernel again: a plain socket bound to it gets the datagrams
            try (DatagramChannel kernel = DatagramChannel.open()) {
                kernel.bind(failingAt);
                kernel.socket().setSoTimeout(2000);
                pair.peer().call(() -> {
                    try (DatagramChannel client = DatagramChannel.open()) {
                        client.bind(new InetSocketAddress(pair.peerV4(), 0));
                        for (int i = 0; i < 10; i++) {
                            client.send(ByteBuffer.wrap(new byte[] {(byte) i}), failingAt);
                        }
                    }
                    return null;
                });
                for (int i = 0; i < 10; i++) {
                    java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[16], 16);
                    kernel.socket().receive(p);
                    assertEquals(1, p.getLength());
                }
            }
            assertEquals(10, EchoClient.echoes(pair, echoAt, 10), "and still serves");
            XdpChannelMetrics m = echo.eventLoop().submit(((XdpDatagramChannel) echo)::metrics).get();
            assertEquals(1060, m.rxFastPackets(), m.toString());
            Thread.sleep(100);
            for (FrameAccounting a : ((XdpDatagramChannel) echo).frameAccounting()) {
                assertTrue(a.balanced(), a.toString());
                assertEquals(0, a.application(), "the hoarded frames came back: " + a);
            }
        } finally {
            failing.close().sync();
            echo.close().sync();
        }
    }

    /** Keeps every datagram until the channel goes inactive; records the events it sees. */
    private static final class Hoarder extends ChannelInboundHandlerAdapter {
        final List<Object> held = new ArrayList<>();
        final List<String> events = new CopyOnWriteArrayList<>();
        final CountDownLatch inactive = new CountDownLatch(1);
        volatile Throwable cause;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            this.cause = cause;
            events.add("exceptionCaught");
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            events.add("channelInactive");
            held.forEach(ReferenceCountUtil::release);
            held.clear();
            inactive.countDown();
        }
    }

    /** An allocator whose direct memory is exhausted, as Netty's throws OutOfDirectMemoryError. */
    private static final class OutOfDirectMemory extends AbstractByteBufAllocator {
        OutOfDirectMemory() {
            super(true);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.buffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            throw new OutOfMemoryError("failed to allocate " + initialCapacity + " byte(s) of direct memory (injected)");
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }
}
