package org.nettyxdp.buffer;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;

import java.lang.foreign.MemorySegment;

/**
 * A frame pool over a real UMEM mapping (no socket), and a stand-in for the kernel: it "receives" a
 * payload into a frame as the RX path would hand it over, with the headers' bytes below it.
 */
final class TestPool implements AutoCloseable {
    static final int FRAME_SIZE = 2048;
    static final int FRAME_CAPACITY = FRAME_SIZE - XdpPacket.XDP_PACKET_HEADROOM;
    /** Ethernet + IPv4 + UDP: where a received IPv4 datagram's payload starts. */
    static final int HEADERS = 42;

    final Umem umem;
    final UmemFramePool pool;

    TestPool(int frames) throws Exception {
        umem = Umem.allocate(new UmemConfig(FRAME_SIZE, frames, 0, 0));
        pool = new UmemFramePool(umem, ByteBufAllocator.DEFAULT);
    }

    MemorySegment region() {
        return umem.region();
    }

    /** A received datagram holding {@code payload} after {@code head} bytes of headers, in the next frame. */
    UmemByteBuf receive(byte[] payload, int head) {
        UmemByteBuf buf = pool.allocate(0, 0);
        if (buf == null) {
            throw new IllegalStateException("no free frame");
        }
        long data = buf.frameAddress() + XdpPacket.XDP_PACKET_HEADROOM;
        MemorySegment seg = region();
        for (int i = 0; i < head; i++) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, data + i, (byte) (0xE0 | i & 0x0f)); // "headers"
        }
        MemorySegment.copy(payload, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, data + head, payload.length);
        seg.asSlice(data + head + payload.length, FRAME_CAPACITY - head - payload.length).fill((byte) 0);
        buf.reuse(head, head + payload.length, 0);
        return buf;
    }

    @Override
    public void close() throws Exception {
        umem.close();
    }
}
