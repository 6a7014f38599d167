package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The TX ring: descriptors ({@code struct xdp_desc}) of frames to send. */
public final class TxRing extends ProducerRing {
    TxRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
    }

    /** Fills reserved slot {@code i}: data at UMEM address {@code addr}, {@code len} bytes, {@code options}. */
    public void put(int i, long addr, int len, int options) {
        long off = slot(i, XdpStructs.DESC_SIZE);
        map.set(JAVA_LONG, off + XdpStructs.DESC_ADDR, addr);
        map.set(JAVA_INT, off + XdpStructs.DESC_LEN, len);
        map.set(JAVA_INT, off + XdpStructs.DESC_OPTIONS, options);
    }

    /** The ring's mapping. */
    public MemorySegment mapping() {
        return map;
    }
}
