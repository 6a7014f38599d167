package org.nettyxdp.channel;

import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * The event loop group for {@link XdpDatagramChannel}: a {@link MultiThreadIoEventLoopGroup} whose
 * loops run an {@link XdpIoHandler}. It takes the constructors {@code NioEventLoopGroup} has, so
 * moving a server from NIO to XDP changes the group and the channel class and nothing else.
 */
public class XdpEventLoopGroup extends MultiThreadIoEventLoopGroup {
    /** As many threads as Netty's default (twice the cores). */
    public XdpEventLoopGroup() {
        this(0);
    }

    /** {@code nThreads} loops (0: Netty's default) on threads of Netty's default thread factory. */
    public XdpEventLoopGroup(int nThreads) {
        this(nThreads, (ThreadFactory) null);
    }

    /** Netty's default number of loops, on threads from {@code threadFactory}. */
    public XdpEventLoopGroup(ThreadFactory threadFactory) {
        this(0, threadFactory);
    }

    /** {@code nThreads} loops on threads from {@code threadFactory} (null: Netty's default). */
    public XdpEventLoopGroup(int nThreads, ThreadFactory threadFactory) {
        super(nThreads, threadFactory, XdpIoHandler.newFactory());
    }

    /** {@code nThreads} loops run by {@code executor}. */
    public XdpEventLoopGroup(int nThreads, Executor executor) {
        super(nThreads, executor, XdpIoHandler.newFactory());
    }

    /** Loops configured by {@code config}, e.g. with busy polling. */
    public XdpEventLoopGroup(int nThreads, XdpIoHandlerConfig config) {
        super(nThreads, (ThreadFactory) null, XdpIoHandler.newFactory(config));
    }
}
