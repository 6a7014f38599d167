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

    public XdpEventLoopGroup(int nThreads) {
        this(nThreads, (ThreadFactory) null);
    }

    public XdpEventLoopGroup(ThreadFactory threadFactory) {
        this(0, threadFactory);
    }

    public XdpEventLoopGroup(int nThreads, ThreadFactory threadFactory) {
        super(nThreads, threadFactory, XdpIoHandler.newFactory());
    }

    public XdpEventLoopGroup(int nThreads, Executor executor) {
        super(nThreads, executor, XdpIoHandler.newFactory());
    }

    /** Loops configured by {@code config}, e.g. with busy polling. */
    public XdpEventLoopGroup(int nThreads, XdpIoHandlerConfig config) {
        super(nThreads, (ThreadFactory) null, XdpIoHandler.newFactory(config));
    }
}
