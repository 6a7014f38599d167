package org.nettyxdp.examples;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * A UDP echo server on XDP. Against the same server on NIO, two lines differ: the event loop group
 * in {@code main} and the channel class in {@code ExampleServer.bootstrap} (the NIO lines are in the
 * comments next to them). The XDP options there are optional extras.
 *
 * <pre>
 * ./run-example.sh echo [--bind 127.0.0.1:9999] [--interface NAME] [--mode auto|skb|drv]
 * </pre>
 *
 * Echoes without copying: the reply reuses the received buffer, which on the fast path is the UMEM
 * frame the datagram arrived in. Prints the channel's counters every few seconds and on exit.
 */
public final class XdpEchoServer {
    static final String USAGE = """
            usage: XdpEchoServer [--bind ADDR:PORT] [--interface NAME] [--mode auto|skb|drv]
              --bind       address to echo on (default 127.0.0.1:9999, i.e. on lo with generic XDP)
              --interface  the only interface for the fast path of 0.0.0.0 or [::] (default: all)
              --mode       how XDP attaches: auto (native if the driver can, else generic), skb, drv""";

    private XdpEchoServer() {
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--bind", "--interface", "--mode"));
        InetSocketAddress bind = cli.address("--bind", "127.0.0.1:9999");
        String iface = cli.value("--interface", null);
        XdpAttachMode mode = cli.mode();

        // NIO: EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup group = new XdpEventLoopGroup(1);
        ExampleServer.run("echo", group, bind, g -> start(g, bind, iface, mode),
                ch -> "echoing on " + Cli.text(ch.localAddress()));
    }

    /** Binds the echo server on {@code group}; {@code iface} may be null (needed only for a wildcard bind). */
    static XdpDatagramChannel start(EventLoopGroup group, InetSocketAddress bind, String iface, XdpAttachMode mode)
            throws InterruptedException {
        return (XdpDatagramChannel) ExampleServer.bootstrap(group, new EchoHandler(), mode, iface)
                .bind(bind).sync().channel();
    }

    /**
     * Sends every datagram back to its sender in the buffer it arrived in: no copy, and no release
     * here, since the write releases it once sent. Flushes once per batch of reads.
     */
    @ChannelHandler.Sharable
    static final class EchoHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        EchoHandler() {
            super(false); // the buffer moves on to the write, which releases it
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.write(new DatagramPacket(packet.content(), packet.sender()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a UDP server keeps serving: report (e.g. an ICMP port unreachable) and go on
            System.err.println("echo: " + cause);
        }
    }
}
