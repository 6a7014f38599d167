package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.packet.XdpPacket;

/**
 * The payload of a received multi-buffer datagram as one {@link ByteBuf}: a {@link CompositeByteBuf}
 * over the frames' {@link UmemByteBuf}s (no copy; index 0 the first payload byte; releasing it returns
 * every frame), or a copy into one buffer when the application already holds too many frames.
 */
final class FrameChainContent {
    private FrameChainContent() {
    }

    /**
     * Takes every frame of {@code chain} (validated, each received: {@link UmemFramePool#takeReceived})
     * from {@code pool}: {@code payload} bytes starting at data-area index {@code head} of the first frame
     * and running on through the others; bytes past them (padding) and frames holding none are returned
     * at once. If anything fails (the allocator is out of direct memory), every frame of the chain is
     * back in the pool before the error propagates.
     */
    static ByteBuf build(FrameChain chain, UmemFramePool pool, int frameSize, int head, int payload, boolean copy,
                         ByteBufAllocator alloc) {
        int k = chain.count();
        // frames before it have left the received state: handed to target or the copy, or dropped
        int next = 0;
        CompositeByteBuf composite = null;
        ByteBuf target = null;
        try {
            if (copy) {
                target = alloc.directBuffer(payload);
            } else {
                composite = alloc.compositeDirectBuffer(k);
                target = composite;
            }
            int left = payload;
            for (; next < k; ) {
                long addr = chain.addr(next);
                long frame = addr & -frameSize;
                int data = (int) (addr - frame - XdpPacket.XDP_PACKET_HEADROOM);
                int start = next == 0 ? head : data;
                int end = data + chain.len(next);
                int n = Math.min(end - start, left);
                if (n <= 0) {
                    pool.dropReceived(addr);
                    next++;
                    continue;
                }
                UmemByteBuf buf = pool.wrapReceived(frame, start, start + n, 0);
                next++;
                left -= n;
                if (copy) {
                    try {
                        target.writeBytes(buf);
                    } finally {
                        buf.release();
                    }
                } else {
                    // released by the composite if adding it fails (a consolidation out of memory)
                    composite.addComponent(true, buf);
                }
            }
            ByteBuf result = target;
            target = null;
            return result;
        } catch (Throwable t) {
            for (; next < k; next++) {
                pool.dropReceived(chain.addr(next));
            }
            throw t;
        } finally {
            if (target != null) {
                target.release();
            }
        }
    }
}
