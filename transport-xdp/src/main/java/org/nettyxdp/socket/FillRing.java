package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The fill ring: frames handed to the kernel to receive into. */
public final class FillRing extends ProducerRing {
    FillRing(MemorySegment map, int size, long producerOffset, long consumerOffset, long flagsOffset,
             long descOffset) {
        super(map, size, producerOffset, consumerOffset, flagsOffset, descOffset);
    }

    /** Writes UMEM address {@code addr} (a frame start) into reserved slot {@code i}. */
    public void put(int i, long addr) {
        map.set(JAVA_LONG, slot(i, 8), addr);
    }
}
