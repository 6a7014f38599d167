package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The fill ring: frames handed to the kernel to receive into. */
public final class FillRing extends ProducerRing {
    FillRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
    }

    /** Writes UMEM address {@code addr} (a frame start) into reserved slot {@code i}. */
    public void put(int i, long addr) {
        map.set(JAVA_LONG, slot(i, XdpStructs.ADDR_SIZE), addr);
    }
}
