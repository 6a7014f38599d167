package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The RX ring: descriptors ({@code struct xdp_desc}) of received frames. */
public final class RxRing extends ConsumerRing {
    RxRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
    }

    /** UMEM address of the data of peeked descriptor {@code i} (frame start plus headroom). */
    public long addr(int i) {
        return map.get(JAVA_LONG, slot(i, XdpStructs.DESC_SIZE) + XdpStructs.DESC_ADDR);
    }

    /** Length of the data of peeked descriptor {@code i}. */
    public int len(int i) {
        return map.get(JAVA_INT, slot(i, XdpStructs.DESC_SIZE) + XdpStructs.DESC_LEN);
    }

    /** Options of peeked descriptor {@code i} ({@code XDP_PKT_CONTD} for multi-buffer). */
    public int options(int i) {
        return map.get(JAVA_INT, slot(i, XdpStructs.DESC_SIZE) + XdpStructs.DESC_OPTIONS);
    }
}
