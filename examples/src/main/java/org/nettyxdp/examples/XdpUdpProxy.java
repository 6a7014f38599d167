package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A UDP proxy: receives datagrams on an address through XDP, forwards each to a backend and relays
 * the backend's replies to the client that caused them.
 *
 * <pre>
 * ./run-example.sh proxy --backend HOST:PORT [--listen ADDR:PORT] [--interface NAME] [--mode auto|skb|drv] [--idle SECONDS]
 * </pre>
 *
 * Each client gets its own backend channel (a kernel UDP socket connected to the backend), so the
 * backend's replies tell which client they are for; a backend channel idle for {@code --idle}
 * seconds is closed and forgotten. Everything runs on one event loop, so the client table needs no
 * locks.
 */
public final class XdpUdpProxy {
    static final String USAGE = """
            usage: XdpUdpProxy --backend HOST:PORT [--listen ADDR:PORT] [--interface NAME] [--mode auto|skb|drv] [--idle SECONDS]
              --backend    where datagrams go (replies come back to their client)
              --listen     address clients send to (default 127.0.0.1:9998, i.e. on lo with generic XDP)
              --interface  interface for the fast path; needed when listening on 0.0.0.0 or [::]
              --mode       how XDP attaches: auto (native if the driver can, else generic), skb, drv
              --idle       seconds after which a silent client's backend channel closes (default 60)""";
    private static final long STATS_SECONDS = 5;

    private final XdpDatagramChannel channel;
    private final Frontend frontend;

    private XdpUdpProxy(XdpDatagramChannel channel, Frontend frontend) {
        this.channel = channel;
        this.frontend = frontend;
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--listen", "--backend", "--interface", "--mode", "--idle"));
        InetSocketAddress listen = cli.address("--listen", "127.0.0.1:9998");
        InetSocketAddress backend = cli.address("--backend", null);
        String iface = cli.value("--interface", null);
        XdpAttachMode mode = cli.mode();
        int idleSeconds = cli.integer("--idle", 60);

        EventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            XdpUdpProxy proxy;
            try {
                proxy = start(group, listen, backend, iface, mode, idleSeconds);
            } catch (Exception e) {
                // e.g. missing privileges, an address of no interface, XDP already attached by another program
                System.err.println("cannot bind " + Cli.text(listen) + ": " + e.getMessage());
                System.exit(1);
                return;
            }
            XdpDatagramChannel channel = proxy.channel();
            System.out.println("proxying " + Cli.text(channel.localAddress()) + " -> " + Cli.text(backend) + ", "
                    + Cli.fastPathSummary(channel));
            channel.eventLoop().scheduleAtFixedRate(() -> System.out.println(proxy.stats()),
                    STATS_SECONDS, STATS_SECONDS, TimeUnit.SECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("final: " + proxy.stats());
                channel.close().syncUninterruptibly();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }, "proxy-shutdown"));
            channel.closeFuture().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Binds the proxy's listening channel on {@code group}; {@code iface} may be null. */
    static XdpUdpProxy start(EventLoopGroup group, InetSocketAddress listen, InetSocketAddress backend,
                             String iface, XdpAttachMode mode, int idleSeconds) throws InterruptedException {
        Frontend frontend = new Frontend(backend, idleSeconds);
        XdpDatagramChannel channel = (XdpDatagramChannel) ExampleServer.bootstrap(group, frontend, mode, iface)
                .bind(listen).sync().channel();
        // closing the proxy closes every backend channel with it
        channel.closeFuture().addListener(f -> frontend.closeAll());
        return new XdpUdpProxy(channel, frontend);
    }

    /** The listening channel. */
    XdpDatagramChannel channel() {
        return channel;
    }

    /** Clients that currently have a backend channel (read on the event loop). */
    int clients() {
        return channel.eventLoop().submit(frontend.clients::size).syncUninterruptibly().getNow();
    }

    String stats() {
        return Cli.stats(channel) + " | clients " + frontend.clients.size();
    }

    /** Forwards client datagrams, opening a backend channel for each new client. */
    private static final class Frontend extends SimpleChannelInboundHandler<DatagramPacket> {
        private final InetSocketAddress backend;
        private final int idleSeconds;
        /** Client → its backend channel (still connecting, or connected). Event-loop confined. */
        final Map<InetSocketAddress, ChannelFuture> clients = new HashMap<>();

        Frontend(InetSocketAddress backend, int idleSeconds) {
            super(false); // the datagram's buffer moves on to the backend write, which releases it
            this.backend = backend;
            this.idleSeconds = idleSeconds;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            InetSocketAddress client = packet.sender();
            ChannelFuture connected = clients.get(client);
            if (connected == null) {
                connected = connect(ctx.channel(), client);
                clients.put(client, connected);
                connected.channel().closeFuture().addListener(f -> clients.remove(client));
            }
            ByteBuf data = packet.content();
            ChannelFuture ready = connected;
            if (ready.isDone()) {
                forward(ready, data);
            } else {
                ready.addListener(f -> forward(ready, data));
            }
        }

        private static void forward(ChannelFuture backendChannel, ByteBuf data) {
            if (backendChannel.isSuccess()) {
                backendChannel.channel().writeAndFlush(data);
            } else {
                data.release();
            }
        }

        /** A kernel UDP socket connected to the backend, on the frontend's event loop, relaying replies to {@code client}. */
        private ChannelFuture connect(Channel frontend, InetSocketAddress client) {
            return new Bootstrap().group(frontend.eventLoop())
                    // unbound XDP channels are plain kernel sockets; a NIO channel would need a NIO loop
                    .channel(XdpDatagramChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS),
                                    new Backend(frontend, client));
                        }
                    })
                    .connect(backend);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("proxy: " + cause);
        }

        void closeAll() {
            for (ChannelFuture f : Map.copyOf(clients).values()) {
                f.channel().close();
            }
        }
    }

    /** Relays one client's backend replies through the listening channel; closes when idle. */
    private static final class Backend extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Channel frontend;
        private final InetSocketAddress client;

        Backend(Channel frontend, InetSocketAddress client) {
            super(false); // the reply's buffer moves on to the frontend write
            this.frontend = frontend;
            this.client = client;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket reply) {
            frontend.write(new DatagramPacket(reply.content(), client));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            frontend.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // e.g. ICMP port unreachable from a backend that is down: keep the channel, report it
            System.err.println("proxy backend for " + client + ": " + cause);
        }
    }
}
