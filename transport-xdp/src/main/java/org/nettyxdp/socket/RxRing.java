package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The RX ring: descriptors ({@code struct xdp_desc}) of received frames. */
public final class RxRing extends ConsumerRing {
    RxRing(MemorySegment map, int size, long producerOffset, long consumerOffset, long flagsOffset,
           long descOffset) {
        super(map, size, producerOffset, consumerOffset, flagsOffset, descOffset);
    }

    /** UMEM address of the data of peeked descriptor {@code i} (frame start plus headroom). */
    public long addr(int i) {
        return map.get(JAVA_LONG, slot(i, 16));
    }

    /** Length of the data of peeked descriptor {@code i}. */
    public int len(int i) {
        return map.get(JAVA_INT, slot(i, 16) + 8);
    }

    /** Options of peeked descriptor {@code i} ({@code XDP_PKT_CONTD} for multi-buffer). */
    public int options(int i) {
        return map.get(JAVA_INT, slot(i, 16) + 12);
    }
}
