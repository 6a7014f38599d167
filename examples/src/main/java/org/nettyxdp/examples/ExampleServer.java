package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What the one-channel example servers share: the bootstrap of their channel, and the life of their
 * {@code main} (bind or exit saying why, print the channel's counters every few seconds and on exit).
 */
final class ExampleServer {
    private static final long STATS_SECONDS = 5;

    private ExampleServer() {
    }

    /** Binds a server's channel on a group. */
    @FunctionalInterface
    interface Binder {
        XdpDatagramChannel bind(EventLoopGroup group) throws Exception;
    }

    /**
     * A bootstrap of {@link XdpDatagramChannel}s on {@code group} with {@code handler}; {@code iface} may
     * be null (needed only for a wildcard bind).
     */
    static Bootstrap bootstrap(EventLoopGroup group, ChannelHandler handler, XdpAttachMode mode, String iface) {
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                // NIO: .channel(NioDatagramChannel.class)
                .channel(XdpDatagramChannel.class)
                .handler(handler);
        // optional XDP settings (a NIO channel would ignore them with a warning)
        bootstrap.option(XdpChannelOption.XDP_MODE, mode);
        if (iface != null) {
            bootstrap.option(XdpChannelOption.INTERFACE, iface);
        }
        return bootstrap;
    }

    /**
     * Binds with {@code binder} on {@code group} (exits with status 1 saying why if it cannot), prints
     * {@code banner} of the channel with its fast path summary, then its counters until it closes or the
     * JVM exits; shuts {@code group} down at the end. {@code name} names the shutdown thread.
     */
    static void run(String name, EventLoopGroup group, InetSocketAddress bind, Binder binder,
                    Function<XdpDatagramChannel, String> banner) throws InterruptedException {
        try {
            XdpDatagramChannel channel;
            try {
                channel = binder.bind(group);
            } catch (Exception e) {
                // e.g. missing privileges, an address of no interface, XDP already attached by another program
                System.err.println("cannot bind " + Cli.text(bind) + ": " + e.getMessage());
                System.exit(1);
                return;
            }
            System.out.println(banner.apply(channel) + ", " + Cli.fastPathSummary(channel));
            channel.eventLoop().scheduleAtFixedRate(() -> System.out.println(Cli.stats(channel)),
                    STATS_SECONDS, STATS_SECONDS, TimeUnit.SECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("final: " + Cli.stats(channel));
                channel.close().syncUninterruptibly();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }, name + "-shutdown"));
            channel.closeFuture().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
