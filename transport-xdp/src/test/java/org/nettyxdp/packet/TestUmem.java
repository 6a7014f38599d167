package org.nettyxdp.packet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A small UMEM stand-in for tests: {@code count} frames carved from one arena segment. */
final class TestUmem implements AutoCloseable {

    static final int SMALL = 2048;
    static final int PAGE = 4096;

    final Arena arena = Arena.ofConfined();
    final int frameSize;
    final MemorySegment umem;

    TestUmem(int frameSize, int count) {
        this.frameSize = frameSize;
        this.umem = arena.allocate((long) frameSize * count, 4096);
    }

    /** The UMEM offset of frame {@code index}. */
    long frame(int index) {
        return (long) index * frameSize;
    }

    /** A packet view pointed at frame {@code index}, empty, with {@code headroom} bytes below the head. */
    XdpPacket packet(int index, int headroom) {
        return new XdpPacket(umem, frameSize).reset(frame(index), headroom, headroom, 0);
    }

    /** A scratch segment outside the UMEM, e.g. for header templates. */
    MemorySegment scratch(long bytes) {
        return arena.allocate(bytes);
    }

    @Override
    public void close() {
        arena.close();
    }
}
