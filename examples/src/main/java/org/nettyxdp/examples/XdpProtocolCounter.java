package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.channel.XdpFrameFilter;
import org.nettyxdp.channel.XdpRawAddress;
import org.nettyxdp.channel.XdpRawChannel;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A per-protocol packet counter on an {@link XdpRawChannel}: it takes the frames its filter matches
 * (they do not reach the kernel) and counts them by EtherType and IP protocol, reading the headers
 * straight from the UMEM frame. Frames the filter leaves (ARP, IPv6 neighbour discovery, ...) keep
 * reaching the kernel.
 *
 * <p>Without {@code --interface} it builds a veth pair with a namespace (see {@link DemoVeth}), sends
 * UDP, TCP and ICMP from the namespace to {@value DemoVeth#HOST_IP}, prints the table and cleans up.
 */
public final class XdpProtocolCounter {
    static final String USAGE = """
            usage: ./run-example.sh counter [--interface NAME --prefix CIDR]
              no --interface: a demo on a veth pair the example creates and removes
              --interface NAME  count IPv4 frames to --prefix (e.g. 10.0.0.1/32) on NAME until Ctrl-C""";

    private XdpProtocolCounter() {
    }

    /** Counts by protocol; index: the IP protocol (0-255) for IPv4/IPv6, 256 for other EtherTypes. */
    @ChannelHandler.Sharable
    static final class Count extends ChannelInboundHandlerAdapter {
        final AtomicLongArray v4 = new AtomicLongArray(257);
        final AtomicLongArray v6 = new AtomicLongArray(257);
        final AtomicLongArray other = new AtomicLongArray(1);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf f = (ByteBuf) msg;
            try {
                int len = f.readableBytes();
                int l3 = 14;
                int type = len >= 14 ? f.getUnsignedShort(12) : -1;
                if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
                    type = f.getUnsignedShort(16);
                    l3 = 18;
                }
                if (type == 0x0800 && len >= l3 + 20) {
                    v4.incrementAndGet(f.getUnsignedByte(l3 + 9));
                } else if (type == 0x86dd && len >= l3 + 40) {
                    v6.incrementAndGet(f.getUnsignedByte(l3 + 6));
                } else {
                    other.incrementAndGet(0);
                }
            } finally {
                f.release();
            }
        }

        TreeMap<String, Long> table() {
            TreeMap<String, Long> t = new TreeMap<>();
            for (int p = 0; p < 257; p++) {
                if (v4.get(p) > 0) {
                    t.put("IPv4 " + name(p), v4.get(p));
                }
                if (v6.get(p) > 0) {
                    t.put("IPv6 " + name(p), v6.get(p));
                }
            }
            if (other.get(0) > 0) {
                t.put("other", other.get(0));
            }
            return t;
        }

        private static String name(int protocol) {
            return switch (protocol) {
                case 1 -> "ICMP";
                case 6 -> "TCP";
                case 17 -> "UDP";
                case 58 -> "ICMPv6";
                default -> "protocol " + protocol;
            };
        }
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--interface", "--prefix"));
        String ifname = cli.value("--interface", null);
        EventLoopGroup group = new XdpEventLoopGroup(1);
        Count count = new Count();
        try {
            if (ifname != null) {
                String prefix = cli.value("--prefix", null);
                if (prefix == null) {
                    System.err.println("--prefix is required with --interface\n" + USAGE);
                    System.exit(2);
                }
                XdpRawChannel ch = bind(group, ifname, XdpFrameFilter.ipv4Destination(prefix), count);
                System.out.println("counting IPv4 frames to " + prefix + " on " + ifname + "; Ctrl-C to stop");
                ch.eventLoop().scheduleAtFixedRate(() -> System.out.println(count.table()), 1, 1, TimeUnit.SECONDS);
                ch.closeFuture().sync();
                return;
            }
            try (DemoVeth veth = new DemoVeth()) {
                XdpRawChannel ch = bind(group, DemoVeth.HOST_IF,
                        XdpFrameFilter.ipv4Destination(DemoVeth.HOST_IP + "/32"), count);
                System.out.println("counting IPv4 frames to " + DemoVeth.HOST_IP + " on " + DemoVeth.HOST_IF);
                int exit = veth.startInNamespace(Traffic.class, DemoVeth.HOST_IP).waitFor();
                Thread.sleep(200);
                System.out.println("counted: " + count.table());
                ch.close().sync();
                long udp = count.v4.get(17);
                if (exit != 0 || udp != Traffic.UDP) {
                    System.err.println("expected " + Traffic.UDP + " UDP frames, counted " + udp);
                    System.exit(1);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    static XdpRawChannel bind(EventLoopGroup group, String ifname, XdpFrameFilter filter, Count count)
            throws InterruptedException {
        return (XdpRawChannel) new Bootstrap().group(group).channel(XdpRawChannel.class)
                .handler(count).bind(new XdpRawAddress(ifname, filter)).sync().channel();
    }

    /** The demo's traffic, run in the namespace: UDP datagrams, TCP connection attempts, ICMP echoes. */
    public static final class Traffic {
        static final int UDP = 1000;
        static final int TCP = 20;

        public static void main(String[] args) throws Exception {
            InetAddress host = InetAddress.getByName(args[0]);
            try (DatagramSocket s = new DatagramSocket()) {
                for (int i = 0; i < UDP; i++) {
                    s.send(new DatagramPacket(new byte[32], 32, host, 5000 + i % 8));
                }
            }
            for (int i = 0; i < TCP; i++) {
                try (SocketChannel c = SocketChannel.open()) {
                    c.configureBlocking(false);
                    c.connect(new InetSocketAddress(host, 80)); // one SYN; the counter takes it
                    Thread.sleep(5);
                }
            }
            boolean answered = host.isReachable(300); // ICMP echo as root; the counter takes it too
            System.out.println("traffic: sent " + UDP + " UDP datagrams, " + TCP + " TCP SYNs, ICMP echo"
                    + (answered ? " (answered?!)" : ""));
        }
    }
}
