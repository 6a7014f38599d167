package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.QueueHolder;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@link XdpRawChannel} bound on a queue still busy (EBUSY: the AF_XDP socket of a channel closed
 * moments ago, which the kernel frees asynchronously, or another process's socket) retries on its
 * event loop without blocking it: the bind completes once the queue is free, or fails saying why
 * after the retry bound; a close meanwhile fails it. A bind through the pipeline ({@code ctx.bind} from
 * a handler) is retried as one through the channel or {@link Bootstrap}.
 */
class RawBusyQueueBindTest {
    private static final int PORT = 7781;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** Counts the frames it receives and releases them. */
    private static class Counter extends ChannelInboundHandlerAdapter {
        final Semaphore frames = new Semaphore(0);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            frames.release();
        }
    }

    private static ChannelFuture bind(VethPair pair, Counter handler) {
        return new Bootstrap().group(LOOPS.group()).channel(XdpRawChannel.class).handler(handler)
                .bind(new XdpRawAddress(pair.hostIf(), XdpFrameFilter.udpDestinationPort(PORT)));
    }

    @Test
    void closingAChannelAndBindingANewOneOnItsQueuesAtOnceSucceeds() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        for (int round = 0; round < 5; round++) {
            Counter counter = new Counter();
            receivesAFrameThenCloses(pair, bind(pair, counter), counter, "round " + round);
        }
    }

    @Test
    void aBusyQueueIsRetriedOnTheLoopUntilItIsFree() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Counter counter = new Counter();
        ChannelFuture f;
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            f = bind(pair, counter);
            // the loop is not parked by the retries: its tasks run, and the bind waits
            for (int i = 0; i < 5; i++) {
                assertEquals(0, f.channel().eventLoop().submit(() -> 0).get(1, TimeUnit.SECONDS));
            }
            assertFalse(f.isDone(), "the bind waits for the queue");
            assertFalse(f.channel().isActive());
        }
        receivesAFrameThenCloses(pair, f, counter, "once the queue is free");
    }

    /** A bind a handler issues ({@code ctx.bind}, through the pipeline) waits for a busy queue as well. */
    @Test
    void aBindThroughThePipelineIsRetriedAsWell() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        CompletableFuture<ChannelFuture> bound = new CompletableFuture<>();
        Counter counter = new Counter() {
            @Override
            public void channelRegistered(ChannelHandlerContext ctx) {
                bound.complete(ctx.bind(new XdpRawAddress(pair.hostIf(), XdpFrameFilter.udpDestinationPort(PORT))));
                ctx.fireChannelRegistered();
            }
        };
        ChannelFuture f;
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            new Bootstrap().group(LOOPS.group()).channel(XdpRawChannel.class).handler(counter).register().sync();
            f = bound.get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 5; i++) {
                assertEquals(0, f.channel().eventLoop().submit(() -> 0).get(1, TimeUnit.SECONDS));
            }
            assertFalse(f.isDone(), "the bind waits for the queue" + (f.cause() == null ? "" : ": " + f.cause()));
            assertFalse(f.channel().isActive());
        }
        receivesAFrameThenCloses(pair, f, counter, "bound through the pipeline once the queue is free");
    }

    @Test
    void aQueueThatStaysBusyFailsTheBindSayingWhy() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            ChannelFuture f = bind(pair, new Counter()).await();
            assertFalse(f.isSuccess());
            assertInstanceOf(BindException.class, f.cause());
            assertTrue(f.cause().getMessage().contains("still busy after"), f.cause().getMessage());
            f.channel().closeFuture().await(5, TimeUnit.SECONDS);
            assertFalse(f.channel().isOpen(), "a failed bind closes the channel");
        }
        // nothing was left behind: the queue serves the next channel
        Counter counter = new Counter();
        receivesAFrameThenCloses(pair, bind(pair, counter), counter, "the next channel");
    }

    @Test
    void closingWhileTheBindWaitsFailsIt() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
            ChannelFuture f = bind(pair, new Counter());
            f.channel().eventLoop().submit(() -> 0).get(1, TimeUnit.SECONDS);
            assertFalse(f.isDone(), "the bind waits for the queue");
            f.channel().close().sync();
            f.await(5, TimeUnit.SECONDS);
            assertInstanceOf(ClosedChannelException.class, f.cause());
        }
    }

    /** Waits for {@code bind}, asserts its channel is active and gets a datagram from the peer, closes it. */
    private static void receivesAFrameThenCloses(VethPair pair, ChannelFuture bind, Counter counter, String what)
            throws Exception {
        XdpRawChannel ch = (XdpRawChannel) bind.sync().channel();
        try {
            assertTrue(ch.isActive(), what);
            send(pair);
            assertTrue(counter.frames.tryAcquire(5, TimeUnit.SECONDS), what + ": a frame arrived");
        } finally {
            ch.close().sync();
        }
    }

    /** From the peer, one datagram to the port the channels' filter takes. */
    private static void send(VethPair pair) throws Exception {
        pair.peer().call(() -> {
            try (DatagramChannel c = DatagramChannel.open()) {
                c.bind(new InetSocketAddress(pair.peerV4(), 0));
                c.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(pair.hostV4(), PORT));
            }
            return null;
        });
    }
}
