package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.channel.XdpFrameFilter;
import org.nettyxdp.channel.XdpRawAddress;
import org.nettyxdp.channel.XdpRawChannel;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.Ipv6Hdr;
import org.nettyxdp.packet.MacAddress;
import org.nettyxdp.packet.UdpHdr;
import org.nettyxdp.packet.XdpPacket;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An L2 reflector on an {@link XdpRawChannel}: every UDP frame to the chosen port goes back where it
 * came from, its MAC addresses, IP addresses and ports swapped in place and the same frame sent
 * (zero-copy end to end: no byte of it is copied). Swapping 16-bit words leaves the checksums valid.
 *
 * <p>Without {@code --interface} it builds a veth pair with a namespace (see {@link DemoVeth}), sends
 * datagrams from a kernel socket in the namespace, checks every reply and removes the pair again.
 */
public final class XdpReflector {
    static final String USAGE = """
            usage: ./run-example.sh reflector [--interface NAME --port N] [--count N]
              no --interface: a demo on a veth pair the example creates and removes
              --interface NAME  reflect UDP to --port (default 7) on NAME until Ctrl-C""";

    private XdpReflector() {
    }

    /** Reflects IPv4 and IPv6 UDP frames in place; anything else the filter let through is dropped. */
    @ChannelHandler.Sharable
    static final class Reflect extends ChannelInboundHandlerAdapter {
        private final EthHdr eth = new EthHdr();
        private final Ipv4Hdr ip4 = new Ipv4Hdr();
        private final Ipv6Hdr ip6 = new Ipv6Hdr();
        private final UdpHdr udp = new UdpHdr();
        private final byte[] a = new byte[16];
        private final byte[] b = new byte[16];

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (!(frame instanceof UmemByteBuf u) || !reflect(u.packet())) {
                frame.release(); // a copy (the application holds too many frames) or not UDP over IP
                return;
            }
            ctx.write(frame);
        }

        private boolean reflect(XdpPacket p) {
            if (p.len() < EthHdr.LEN) {
                return false;
            }
            p.read(0, eth);
            int l4;
            if (eth.etherType() == 0x0800 && p.len() >= EthHdr.LEN + Ipv4Hdr.LEN) {
                p.read(EthHdr.LEN, ip4);
                int src = ip4.source();
                ip4.setSource(ip4.destination());
                ip4.setDestination(src);
                l4 = EthHdr.LEN + ip4.headerLength();
            } else if (eth.etherType() == 0x86dd && p.len() >= EthHdr.LEN + Ipv6Hdr.LEN) {
                p.read(EthHdr.LEN, ip6);
                ip6.getSource(a);
                ip6.getDestination(b);
                ip6.setSource(b);
                ip6.setDestination(a);
                l4 = EthHdr.LEN + Ipv6Hdr.LEN;
            } else {
                return false;
            }
            if (p.len() < l4 + UdpHdr.LEN) {
                return false;
            }
            MacAddress dst = eth.destination();
            eth.setDestination(eth.source());
            eth.setSource(dst);
            p.read(l4, udp);
            int sport = udp.sourcePort();
            udp.setSourcePort(udp.destinationPort());
            udp.setDestinationPort(sport);
            return true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--interface", "--port", "--count"));
        int port = Integer.parseInt(cli.value("--port", "7"));
        int count = Integer.parseInt(cli.value("--count", "20000"));
        String ifname = cli.value("--interface", null);
        EventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            if (ifname != null) {
                XdpRawChannel ch = bind(group, ifname, port);
                System.out.println("reflecting UDP to port " + port + " on " + ifname + "; Ctrl-C to stop");
                ch.eventLoop().scheduleAtFixedRate(() -> System.out.println(ch.metrics()), 1, 1, TimeUnit.SECONDS);
                ch.closeFuture().sync();
                return;
            }
            try (DemoVeth veth = new DemoVeth()) {
                XdpRawChannel ch = bind(group, DemoVeth.HOST_IF, port);
                System.out.println("reflecting UDP to port " + port + " on " + DemoVeth.HOST_IF + " ("
                        + ch.deviceFeatures() + ", TX checksum offload " + ch.isTxChecksumOffload() + ")");
                Process client = veth.startInNamespace(Client.class, DemoVeth.HOST_IP, Integer.toString(port),
                        Integer.toString(count));
                int exit = client.waitFor();
                System.out.println("reflector: " + ch.metrics());
                ch.close().sync();
                if (exit != 0) {
                    System.exit(exit);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    static XdpRawChannel bind(EventLoopGroup group, String ifname, int port) throws InterruptedException {
        return (XdpRawChannel) new Bootstrap().group(group).channel(XdpRawChannel.class)
                .handler(new Reflect())
                .bind(new XdpRawAddress(ifname, XdpFrameFilter.udpDestinationPort(port))).sync().channel();
    }

    /** The demo's traffic source, run in the namespace: datagrams one at a time, each reply checked. */
    public static final class Client {
        public static void main(String[] args) throws Exception {
            InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
            int count = Integer.parseInt(args[2]);
            byte[] out = new byte[64];
            DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
            int ok = 0;
            long t0 = System.nanoTime();
            try (DatagramSocket s = new DatagramSocket()) {
                s.setSoTimeout(1000);
                for (int i = 0; i < count; i++) {
                    java.nio.ByteBuffer.wrap(out).putInt(0, i);
                    s.send(new DatagramPacket(out, out.length, to));
                    try {
                        s.receive(reply);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    if (reply.getLength() == out.length && java.nio.ByteBuffer.wrap(reply.getData()).getInt(0) == i
                            && to.equals(reply.getSocketAddress())) {
                        ok++;
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("client: %d of %d datagrams reflected intact from %s (%.0f round trips/s)%n",
                    ok, count, to, ok / secs);
            System.exit(ok == count ? 0 : 1);
        }
    }
}
