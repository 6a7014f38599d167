package org.nettyxdp.benchmarks.harness;

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

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The raw-channel row beside the datagram echo: an {@link XdpRawChannel} on the host end takes the
 * generator's UDP frames to the benchmark port and reflects each in place (MACs, IPv4 addresses and
 * ports swapped, the same frame sent back), measured like the echo rows: replies counted at the
 * client's veth, loop-thread CPU per packet.
 */
final class RawReflectorRow {
    static final String TRANSPORT = "xdp_raw";

    private RawReflectorRow() {
    }

    static Harness.Row measure(Harness harness, BenchHost h, Harness.NsThread ctl, Harness.NsThread gen, int port,
                               int payload, Harness.Placement p) throws Exception {
        Affinity.PinnedFactory factory = new Affinity.PinnedFactory(p.serverCpu(), "server-" + TRANSPORT);
        EventLoopGroup group = new XdpEventLoopGroup(1, factory);
        Reflect reflect = new Reflect();
        try {
            XdpRawChannel ch = (XdpRawChannel) new Bootstrap().group(group).channel(XdpRawChannel.class)
                    .handler(reflect)
                    .bind(new XdpRawAddress(h.hostIf(), XdpFrameFilter.udpDestinationPort(port))).sync().channel();
            try (ReplyCounter replies = ctl.call(() -> new ReplyCounter(h.peerIf()))) {
                Harness.Drive r = harness.drive(h, gen, payload, replies::count, factory.last, p,
                        List.of(h.hostIf(), h.peerIf()));
                String note = "reflected " + reflect.count.get() + ", " + ch.metrics();
                return new Harness.Row(h.queues(), p.name(), TRANSPORT, "echo", payload, r.pps(), Double.NaN,
                        Double.NaN, Double.NaN, r.genPps(), r.allocPerPacket(), r.cpuNsPerPacket(), r.serverCpu(),
                        r.runqWait(), note + "\n      " + r.kernel());
            } finally {
                ch.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Swaps MACs, IPv4 addresses and UDP ports in place (the checksums stay valid) and sends the frame. */
    @ChannelHandler.Sharable
    static final class Reflect extends ChannelInboundHandlerAdapter {
        final AtomicLong count = new AtomicLong();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf f = (ByteBuf) msg;
            if (f.readableBytes() < 42 || f.getUnsignedShort(12) != 0x0800) {
                f.release();
                return;
            }
            int d0 = f.getInt(0);
            short d1 = f.getShort(4);
            f.setInt(0, f.getInt(6));
            f.setShort(4, f.getShort(10));
            f.setInt(6, d0);
            f.setShort(10, d1);
            int src = f.getInt(26);
            f.setInt(26, f.getInt(30));
            f.setInt(30, src);
            int l4 = 14 + (f.getByte(14) & 0x0f) * 4;
            int ports = f.getInt(l4);
            f.setInt(l4, ports << 16 | ports >>> 16);
            count.lazySet(count.get() + 1);
            ctx.write(f, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
