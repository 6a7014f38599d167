package org.nettyxdp.benchmarks.harness;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.ReferenceCountUtil;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.channel.XdpIoHandlerConfig;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;

/**
 * One Netty UDP server under test: one event loop thread pinned to a CPU, one datagram channel bound
 * to the host end of the veth, and a handler that either counts and releases (RX sink) or echoes.
 * Everything but the group and channel class is the same for every transport.
 */
final class Server implements AutoCloseable {
    /** The server transports compared. */
    enum Transport {
        NIO("nio"), EPOLL("epoll"), IO_URING("io_uring"), XDP_DRV("xdp_drv"), XDP_SKB("xdp_skb");

        final String label;

        Transport(String label) {
            this.label = label;
        }

        boolean isXdp() {
            return this == XDP_DRV || this == XDP_SKB;
        }

        /** Why this transport cannot run here, or null. */
        String unavailable() {
            return switch (this) {
                case EPOLL -> Epoll.isAvailable() ? null : String.valueOf(Epoll.unavailabilityCause());
                case IO_URING -> IoUring.isAvailable() ? null : String.valueOf(IoUring.unavailabilityCause());
                default -> null;
            };
        }
    }

    private final EventLoopGroup group;
    private final Channel channel;
    private final Counting handler;
    private final Thread loopThread;

    private Server(EventLoopGroup group, Channel channel, Counting handler, Thread loopThread) {
        this.group = group;
        this.channel = channel;
        this.handler = handler;
        this.loopThread = loopThread;
    }

    /**
     * Waits up to 3 s for the channel's fast path: a bind that finds the queue still held by the previous
     * row's socket completes on the kernel socket, and the fast path joins once the kernel frees the queue.
     */
    static boolean awaitFastPath(XdpDatagramChannel ch) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (!ch.isFastPathActive()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    static Server start(Transport t, InetSocketAddress bind, boolean echo, int cpu) throws InterruptedException {
        Affinity.PinnedFactory factory = new Affinity.PinnedFactory(cpu, "server-" + t.label);
        EventLoopGroup group = switch (t) {
            case NIO -> new MultiThreadIoEventLoopGroup(1, factory, NioIoHandler.newFactory());
            case EPOLL -> new MultiThreadIoEventLoopGroup(1, factory, EpollIoHandler.newFactory());
            case IO_URING -> new MultiThreadIoEventLoopGroup(1, factory, IoUringIoHandler.newFactory());
            case XDP_DRV, XDP_SKB -> Boolean.getBoolean("bench.xdpBusyPoll")
                    ? new MultiThreadIoEventLoopGroup(1, factory,
                    org.nettyxdp.channel.XdpIoHandler.newFactory(new XdpIoHandlerConfig().setBusyPoll(true)))
                    : new XdpEventLoopGroup(1, factory);
        };
        Counting handler = new Counting(echo);
        Bootstrap b = new Bootstrap().group(group)
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(handler);
        switch (t) {
            case NIO -> b.channel(NioDatagramChannel.class);
            case EPOLL -> b.channel(EpollDatagramChannel.class);
            case IO_URING -> b.channel(IoUringDatagramChannel.class);
            case XDP_DRV -> b.channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV);
            case XDP_SKB -> b.channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, XdpAttachMode.SKB);
        }
        if (t.isXdp()) {
            // out of the box unless asked: -Dbench.xdpRing / -Dbench.xdpFrames for the tuning experiments
            Integer ring = Integer.getInteger("bench.xdpRing");
            Integer frames = Integer.getInteger("bench.xdpFrames");
            if (ring != null) {
                b.option(XdpChannelOption.RING_SIZE, ring);
            }
            if (frames != null) {
                b.option(XdpChannelOption.UMEM_FRAME_COUNT, frames);
            }
        }
        Channel ch;
        try {
            ch = b.bind(bind).sync().channel();
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        if (ch instanceof XdpDatagramChannel x && !awaitFastPath(x)) {
            ch.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            throw new IllegalStateException("XDP fast path not active on " + bind);
        }
        return new Server(group, ch, handler, factory.last);
    }

    /** Datagrams the handler has seen. */
    long count() {
        return handler.count();
    }

    /** The event loop thread (for its allocation counter). */
    Thread loopThread() {
        return loopThread;
    }

    /** The XDP channel's metrics, or null for the kernel transports. */
    XdpChannelMetrics xdpMetrics() {
        return channel instanceof XdpDatagramChannel x ? x.metrics() : null;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** RX sink (count, release) or echo (count, write back to the sender, flush per read batch). */
    @ChannelHandler.Sharable
    static final class Counting extends ChannelInboundHandlerAdapter {
        private static final VarHandle COUNT;

        static {
            try {
                COUNT = MethodHandles.lookup().findVarHandle(Counting.class, "count", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final boolean echo;
        @SuppressWarnings("unused") // through COUNT
        private long count;

        Counting(boolean echo) {
            this.echo = echo;
        }

        long count() {
            return (long) COUNT.getOpaque(this);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            COUNT.setOpaque(this, (long) COUNT.getOpaque(this) + 1);
            if (echo && msg instanceof DatagramPacket p) {
                ctx.write(new DatagramPacket(p.content(), p.sender()), ctx.voidPromise());
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // writes failing while the channel closes at the end of a run: nothing to report
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (echo) {
                ctx.flush();
            }
        }
    }
}
