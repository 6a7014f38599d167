package org.nettyxdp.examples;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.testing.NetNs;

import java.util.concurrent.ThreadFactory;

/**
 * Event loop groups whose threads live in a test host's peer namespace, so that what their channels
 * open (kernel sockets, AF_XDP sockets, netlink) belongs to that namespace, as a remote host's would.
 * Create the channels from inside the namespace too ({@link NetNs#call}): NIO opens its socket in the
 * channel's constructor.
 *
 * <p>An XDP channel in such a thread sees the host's sysfs, not the namespace's, so it takes the RX
 * queue count from netlink, which for a veth is the allocated count (one per CPU) unless the pair
 * was made with an explicit count: use {@code TestHosts.vethPair(n)} with {@code n > 1}.
 */
final class PeerLoops {
    private PeerLoops() {
    }

    /** One NIO event loop in {@code ns}. */
    static EventLoopGroup nio(NetNs ns) {
        return new MultiThreadIoEventLoopGroup(1, threads(ns), NioIoHandler.newFactory());
    }

    /** One XDP event loop in {@code ns}. */
    static EventLoopGroup xdp(NetNs ns) {
        return new XdpEventLoopGroup(1, threads(ns));
    }

    private static ThreadFactory threads(NetNs ns) {
        return new DefaultThreadFactory("peer-" + ns.name()) {
            @Override
            public Thread newThread(Runnable r) {
                return super.newThread(() -> {
                    try {
                        NetNs.enter(ns.name());
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot enter netns " + ns.name(), e);
                    }
                    r.run();
                });
            }
        };
    }
}
