package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The echo server on several cores, the way Netty's epoll transport does it: an event loop group of
 * {@code n} threads and {@code n} channels with {@code SO_REUSEPORT} bound to the same address and
 * port, one per loop. The XDP channels split the interface's RX queues between them, each queue served
 * by one channel, so by one thread; give the interface at least {@code n} queues
 * ({@code ethtool -L IFACE combined N}, or {@code numrxqueues}/{@code numtxqueues} for a veth).
 *
 * <pre>
 * ./run-example.sh reuseport-echo --bind 10.0.0.1:9999 [--loops 2] [--mode auto|skb|drv]
 * </pre>
 *
 * Prints each channel's queues and counters every few seconds and on exit.
 */
public final class XdpReusePortEchoServer {
    static final String USAGE = """
            usage: XdpReusePortEchoServer [--bind ADDR:PORT] [--loops N] [--interface NAME] [--mode auto|skb|drv]
              --bind       address to echo on (default 127.0.0.1:9999)
              --loops      event loops, one channel each (default 2)
              --interface  interface for the fast path; needed when binding 0.0.0.0 or [::]
              --mode       how XDP attaches: auto (native if the driver can, else generic), skb, drv""";
    private static final long STATS_SECONDS = 5;

    private XdpReusePortEchoServer() {
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--bind", "--loops", "--interface", "--mode"));
        InetSocketAddress bind = cli.address("--bind", "127.0.0.1:9999");
        int loops = Integer.parseInt(cli.value("--loops", "2"));
        String iface = cli.value("--interface", null);
        XdpAttachMode mode = cli.mode();

        // epoll: new MultiThreadIoEventLoopGroup(loops, EpollIoHandler.newFactory())
        EventLoopGroup group = new XdpEventLoopGroup(loops);
        try {
            List<XdpDatagramChannel> channels;
            try {
                channels = start(group, loops, bind, iface, mode);
            } catch (Exception e) {
                System.err.println("cannot bind " + Cli.text(bind) + ": " + e.getMessage());
                System.exit(1);
                return;
            }
            for (XdpDatagramChannel ch : channels) {
                System.out.println("echoing on " + Cli.text(ch.localAddress()) + " on " + ch.eventLoop()
                        + ", RX queues " + Arrays.toString(ch.fastPathQueues()) + ", " + Cli.fastPathSummary(ch));
            }
            group.next().scheduleAtFixedRate(() -> channels.forEach(ch -> System.out.println(
                    Arrays.toString(ch.fastPathQueues()) + " " + Cli.stats(ch))), STATS_SECONDS, STATS_SECONDS,
                    TimeUnit.SECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (XdpDatagramChannel ch : channels) {
                    System.out.println("final " + Arrays.toString(ch.fastPathQueues()) + ": " + Cli.stats(ch));
                    ch.close().syncUninterruptibly();
                }
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }, "echo-shutdown"));
            for (XdpDatagramChannel ch : channels) {
                ch.closeFuture().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * Binds {@code n} echo channels with {@code SO_REUSEPORT} to {@code bind} (port 0: the first
     * channel's port), one per event loop of {@code group}.
     */
    static List<XdpDatagramChannel> start(EventLoopGroup group, int n, InetSocketAddress bind, String iface,
                                          XdpAttachMode mode) throws InterruptedException {
        Bootstrap bootstrap = new Bootstrap()
                .group(group) // next() hands each bind the group's next loop
                .channel(XdpDatagramChannel.class)
                // epoll: .option(EpollChannelOption.SO_REUSEPORT, true)
                .option(XdpChannelOption.SO_REUSEPORT, true)
                .option(XdpChannelOption.XDP_MODE, mode)
                .handler(new XdpEchoServer.EchoHandler());
        if (iface != null) {
            bootstrap.option(XdpChannelOption.INTERFACE, iface);
        }
        List<XdpDatagramChannel> channels = new ArrayList<>();
        InetSocketAddress at = bind;
        for (int i = 0; i < n; i++) {
            XdpDatagramChannel ch = (XdpDatagramChannel) bootstrap.bind(at).sync().channel();
            channels.add(ch);
            at = new InetSocketAddress(bind.getAddress(), ch.localAddress().getPort());
        }
        return channels;
    }
}
