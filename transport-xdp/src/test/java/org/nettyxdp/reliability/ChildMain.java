package org.nettyxdp.reliability;

import org.nettyxdp.testing.EchoHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of the child JVMs the reliability tests start ({@link ChildJvm}).
 * <ul>
 *   <li>{@code hold IP[:PORT] MODE [IP[:PORT] MODE ...]}: binds an echoing channel to each address in
 *       that XDP mode, prints {@code READY port...}, then waits until killed or stdin closes;</li>
 *   <li>{@code try IP[:PORT] [key=value ...]}: binds one channel with the given options
 *       ({@code mode, iface, frameSize, frameCount, headroom, ring, copy}), prints {@code OK ...}
 *       or {@code ERROR} followed by the exception chain, closes it and exits (0 or 2);</li>
 *   <li>{@code hoard IP COPY}: binds an echoing channel and one that keeps every datagram it
 *       receives (copy fallback threshold {@code COPY}) on one event loop, prints
 *       {@code READY echo=PORT hoard=PORT}, then {@code EVENT name[ cause]} for the hoarding channel's
 *       {@code exceptionCaught} and {@code channelInactive}, and waits until killed.</li>
 * </ul>
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) throws Exception {
        EventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            switch (args[0]) {
                case "hold" -> hold(group, args);
                case "try" -> System.exit(tryBind(group, args));
                case "hoard" -> hoard(group, args);
                default -> throw new IllegalArgumentException(args[0]);
            }
        } finally {
            group.shutdownGracefully();
        }
    }

    private static InetSocketAddress address(String s) throws Exception {
        int colon = s.lastIndexOf(':');
        if (colon > 0 && s.indexOf(':') == colon) {
            return new InetSocketAddress(InetAddress.getByName(s.substring(0, colon)),
                    Integer.parseInt(s.substring(colon + 1)));
        }
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            return new InetSocketAddress(InetAddress.getByName(s.substring(1, end)),
                    Integer.parseInt(s.substring(end + 2)));
        }
        return new InetSocketAddress(InetAddress.getByName(s), 0);
    }

    private static void hold(EventLoopGroup group, String[] args) throws Exception {
        List<XdpDatagramChannel> channels = new ArrayList<>();
        StringBuilder ready = new StringBuilder("READY");
        for (int i = 1; i + 1 < args.length; i += 2) {
            long t0 = System.nanoTime();
            XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(group)
                    .channel(XdpDatagramChannel.class)
                    .option(XdpChannelOption.XDP_MODE, XdpAttachMode.valueOf(args[i + 1]))
                    .handler(new EchoHandler())
                    .bind(address(args[i])).sync().channel();
            channels.add(ch);
            System.out.println("BOUND " + ch.localAddress() + " fast=" + ch.isFastPathActive() + " on "
                    + ch.fastPathInterface() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            ready.append(' ').append(ch.localAddress().getPort());
        }
        System.out.println(ready);
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for SIGKILL (or the parent closing stdin)
        }
        for (XdpDatagramChannel ch : channels) {
            ch.close().sync();
        }
    }

    private static int tryBind(EventLoopGroup group, String[] args) {
        Bootstrap b = new Bootstrap().group(group).channel(XdpDatagramChannel.class).handler(new EchoHandler());
        try {
            for (int i = 2; i < args.length; i++) {
                String[] kv = args[i].split("=", 2);
                switch (kv[0]) {
                    case "mode" -> b.option(XdpChannelOption.XDP_MODE, XdpAttachMode.valueOf(kv[1]));
                    case "iface" -> b.option(XdpChannelOption.INTERFACE, kv[1]);
                    case "frameSize" -> b.option(XdpChannelOption.UMEM_FRAME_SIZE, Integer.parseInt(kv[1]));
                    case "frameCount" -> b.option(XdpChannelOption.UMEM_FRAME_COUNT, Integer.parseInt(kv[1]));
                    case "headroom" -> b.option(XdpChannelOption.UMEM_HEADROOM, Integer.parseInt(kv[1]));
                    case "ring" -> b.option(XdpChannelOption.RING_SIZE, Integer.parseInt(kv[1]));
                    case "copy" -> b.option(XdpChannelOption.COPY_FALLBACK_THRESHOLD, Double.parseDouble(kv[1]));
                    default -> throw new IllegalArgumentException(kv[0]);
                }
            }
            XdpDatagramChannel ch = (XdpDatagramChannel) b.bind(address(args[1])).sync().channel();
            System.out.println("OK fast=" + ch.isFastPathActive() + " on " + ch.fastPathInterface());
            ch.close().sync();
            return 0;
        } catch (Throwable t) {
            StringBuilder sb = new StringBuilder("ERROR");
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                sb.append(" | ").append(c.getClass().getName()).append(": ").append(c.getMessage());
            }
            System.out.println(sb);
            return 2;
        } finally {
            System.out.flush();
        }
    }

    private static void hoard(EventLoopGroup group, String[] args) throws Exception {
        InetAddress ip = InetAddress.getByName(args[1]);
        XdpDatagramChannel echo = (XdpDatagramChannel) new Bootstrap().group(group)
                .channel(XdpDatagramChannel.class).handler(new EchoHandler())
                .bind(new InetSocketAddress(ip, 0)).sync().channel();
        XdpDatagramChannel hoard = (XdpDatagramChannel) new Bootstrap().group(group)
                .channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.COPY_FALLBACK_THRESHOLD, Double.parseDouble(args[2]))
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                    final List<Object> held = new ArrayList<>();

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        held.add(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        System.out.println("EVENT exceptionCaught " + cause.getClass().getName() + " after "
                                + held.size() + " held");
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        held.forEach(io.netty.util.ReferenceCountUtil::release);
                        held.clear();
                        System.out.println("EVENT channelInactive");
                    }
                })
                .bind(new InetSocketAddress(ip, 0)).sync().channel();
        System.out.println("READY echo=" + echo.localAddress().getPort() + " hoard=" + hoard.localAddress().getPort()
                + " fast=" + (echo.isFastPathActive() && hoard.isFastPathActive()));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
