package org.nettyxdp.buffer;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A frame pool over native memory of a shared arena (no socket, no kernel), and a stand-in for the
 * kernel: it "receives" a payload into a frame as the RX path hands it over, with header bytes below.
 */
final class TestPool implements AutoCloseable {
    static final int FRAME_SIZE = 2048;
    static final int FRAME_CAPACITY = FRAME_SIZE - XdpPacket.XDP_PACKET_HEADROOM;
    /** Ethernet + IPv4 + UDP: where a received IPv4 datagram's payload starts. */
    static final int HEADERS = 42;

    final Arena arena = Arena.ofShared();
    final MemorySegment region;
    final UmemFramePool pool;
    private final long[] one = new long[1];

    TestPool(int frames) {
        region = arena.allocate((long) frames * FRAME_SIZE, 4096);
        pool = new UmemFramePool(region, FRAME_SIZE, ByteBufAllocator.DEFAULT);
    }

    /** Gives the "kernel" a free frame, as the fill ring would; returns its address. */
    long fill() {
        if (pool.takeForReceive(one, 1) != 1) {
            throw new IllegalStateException("no free frame");
        }
        return one[0];
    }

    /** A received datagram holding {@code payload} after {@code head} bytes of headers, in a free frame. */
    UmemByteBuf receive(byte[] payload, int head) {
        long frame = fill();
        long data = frame + XdpPacket.XDP_PACKET_HEADROOM;
        for (int i = 0; i < head; i++) {
            region.set(JAVA_BYTE, data + i, (byte) (0xE0 | i & 0x0f)); // "headers"
        }
        MemorySegment.copy(payload, 0, region, JAVA_BYTE, data + head, payload.length);
        region.asSlice(data + head + payload.length, FRAME_CAPACITY - head - payload.length).fill((byte) 0);
        return pool.wrap(frame, head, head + payload.length, 0);
    }

    @Override
    public void close() {
        arena.close();
    }
}
