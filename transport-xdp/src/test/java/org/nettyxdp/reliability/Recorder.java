package org.nettyxdp.reliability;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.buffer.UmemByteBuf;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records which tagged datagrams ({@link HostileMix#MAGIC} + sequence number) a channel delivered,
 * how often, on which path (bit 1: fast path, a {@link UmemByteBuf}; bit 2: kernel path, a copy) and
 * on which channel; releases every datagram. Untagged deliveries are counted as garbage.
 */
@ChannelHandler.Sharable
final class Recorder extends ChannelInboundHandlerAdapter {
    final AtomicIntegerArray counts;
    final AtomicIntegerArray paths;
    final AtomicIntegerArray families;
    final AtomicLong garbage = new AtomicLong();
    final AtomicLong total = new AtomicLong();

    Recorder(int capacity) {
        counts = new AtomicIntegerArray(capacity);
        paths = new AtomicIntegerArray(capacity);
        families = new AtomicIntegerArray(capacity);
    }

    /** A handler for one channel of address family {@code family} (4 or 6) feeding this recorder. */
    ChannelHandler forFamily(int family) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                record((DatagramPacket) msg, family);
            }

            @Override
            public boolean isSharable() {
                return true;
            }
        };
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        record((DatagramPacket) msg, 0);
    }

    /** A frame's own buffer, or (multi-buffer) a composite of frames: the fast path's zero-copy content. */
    static boolean inUmem(ByteBuf c) {
        if (c instanceof UmemByteBuf) {
            return true;
        }
        if (!(c instanceof io.netty.buffer.CompositeByteBuf composite) || composite.numComponents() == 0) {
            return false;
        }
        for (int i = 0; i < composite.numComponents(); i++) {
            ByteBuf part = composite.internalComponent(i);
            if (!(part instanceof UmemByteBuf) && !(part.unwrap() instanceof UmemByteBuf)) {
                return false;
            }
        }
        return true;
    }

    private void record(DatagramPacket p, int family) {
        try {
            total.incrementAndGet();
            ByteBuf c = p.content();
            int r = c.readerIndex();
            if (c.readableBytes() >= 8 && c.getInt(r) == HostileMix.MAGIC) {
                int seq = c.getInt(r + 4);
                if (seq >= 0 && seq < counts.length()) {
                    counts.incrementAndGet(seq);
                    int path = inUmem(c) ? 1 : 2;
                    paths.accumulateAndGet(seq, path, (a, b) -> a | b);
                    families.set(seq, family);
                    return;
                }
            }
            garbage.incrementAndGet();
        } finally {
            p.release();
        }
    }
}
