package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.testing.FastPathWait;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UMEM's lifetime as channels see it: frame buffers taken on any thread while the channel closes,
 * buffers kept past the close, and one geometry per shared queue.
 */
class UmemLifetimeTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(2);

    private static ChannelFuture bind(VethPair pair, int frameSize) {
        return new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.UMEM_FRAME_SIZE, frameSize)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(pair.hostV4(), 0));
    }

    @Test
    void aSecondChannelAskingForAnotherUmemGeometryOnTheQueueFailsToBind() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel first = (XdpDatagramChannel) bind(pair, 2048).sync().channel();
        try {
            assertTrue(first.isFastPathActive());
            ChannelFuture other = bind(pair, 4096).await();
            assertFalse(other.isSuccess(), "bound with another geometry");
            IOException e = assertInstanceOf(IOException.class, other.cause());
            assertTrue(e.getMessage().contains("already has a UMEM of 4096 frames of 2048 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("asks for 4096 frames of 4096 bytes"), e.getMessage());
            other.channel().close().sync();
            XdpDatagramChannel same = (XdpDatagramChannel) bind(pair, 2048).sync().channel();
            assertTrue(same.isFastPathActive(), "the same geometry shares the queue");
            same.close().sync();
        } finally {
            first.close().sync();
        }
        XdpDatagramChannel larger = (XdpDatagramChannel) bind(pair, 4096).sync().channel();
        FastPathWait.awaitFastPath(larger, "a new UMEM once the queue's last channel is gone");
        assertEquals(4096 - 256 - 62, larger.maxFramePayload());
        larger.close().sync();
    }

    @Test
    void frameBuffersAreSafeAgainstAConcurrentClose() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        for (int round = 0; round < 20; round++) {
            XdpDatagramChannel ch = (XdpDatagramChannel) bind(pair, 2048).sync().channel();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger frames = new AtomicInteger();
            AtomicInteger ordinary = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            Thread taker = new Thread(() -> {
                try {
                    for (long i = 0; !stop.get(); i++) {
                        ByteBuf b = ch.frameBuffer();
                        (b instanceof UmemByteBuf ? frames : ordinary).incrementAndGet();
                        b.writeLong(i).writeLong(~i);
                        if (b.getLong(0) != i || b.readLong() != i || b.readLong() != ~i) {
                            throw new AssertionError(b.toString());
                        }
                        b.release();
                        started.countDown();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                    started.countDown();
                }
            }, "frame-buffer-taker");
            taker.start();
            assertTrue(started.await(10, TimeUnit.SECONDS));
            Thread.sleep(round % 5);
            ch.close().sync();
            Thread.sleep(2);
            stop.set(true);
            taker.join(10_000);
            assertFalse(taker.isAlive());
            assertNull(failure.get(), () -> "round " + failure.get());
            assertTrue(frames.get() + ordinary.get() > 0);
            ByteBuf after = ch.frameBuffer();
            assertFalse(after instanceof UmemByteBuf, "no UMEM frame from a closed channel");
            after.release();
        }
    }

    @Test
    void aBufferKeptPastTheCloseKeepsTheUmemMappedAndAKeptNioBufferThrowsAfterwards() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel ch = (XdpDatagramChannel) bind(pair, 2048).sync().channel();
        ByteBuf held = ch.frameBuffer();
        assertInstanceOf(UmemByteBuf.class, held);
        ByteBuffer nio = held.nioBuffer(0, 8);
        ch.close().sync();
        held.writeLong(42);
        assertEquals(42, nio.getLong(0), "mapped while a buffer is held");
        assertTrue(held.release());
        // the last buffer is gone: the UMEM is unmapped, and a kept view throws instead of faulting
        assertThrows(IllegalStateException.class, () -> nio.getLong(0));
        assertThrows(io.netty.util.IllegalReferenceCountException.class, () -> held.getLong(0));
    }
}
