package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The TX ring: descriptors ({@code struct xdp_desc}) of frames to send. */
public final class TxRing extends ProducerRing {
    TxRing(MemorySegment map, int size, long producerOffset, long consumerOffset, long flagsOffset,
           long descOffset) {
        super(map, size, producerOffset, consumerOffset, flagsOffset, descOffset);
    }

    /** Fills reserved slot {@code i}: data at UMEM address {@code addr}, {@code len} bytes, {@code options}. */
    public void put(int i, long addr, int len, int options) {
        long off = slot(i, 16);
        map.set(JAVA_LONG, off, addr);
        map.set(JAVA_INT, off + 8, len);
        map.set(JAVA_INT, off + 12, options);
    }

    /** The ring's mapping. */
    public MemorySegment mapping() {
        return map;
    }
}
