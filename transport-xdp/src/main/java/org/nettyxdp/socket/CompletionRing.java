package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The completion ring: addresses of TX frames the kernel has finished sending. */
public final class CompletionRing extends ConsumerRing {
    CompletionRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
    }

    /** UMEM address of peeked entry {@code i}, as it was given in the TX descriptor. */
    public long addr(int i) {
        return map.get(JAVA_LONG, slot(i, XdpStructs.ADDR_SIZE));
    }
}
