package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Where one ring's producer word, consumer word, flags word and entries sit in its mapping: one
 * {@code struct xdp_ring_offset} of the kernel's {@code XDP_MMAP_OFFSETS} answer.
 */
record RingOffsets(long producer, long consumer, long desc, long flags) {
    /** Reads ring {@code ring} ({@code "rx"}, {@code "tx"}, {@code "fr"} or {@code "cr"}) of {@code offsets}. */
    static RingOffsets read(MemorySegment offsets, String ring) {
        return new RingOffsets(
                offsets.get(JAVA_LONG, XdpStructs.offset(XdpStructs.MMAP_OFFSETS, ring, "producer")),
                offsets.get(JAVA_LONG, XdpStructs.offset(XdpStructs.MMAP_OFFSETS, ring, "consumer")),
                offsets.get(JAVA_LONG, XdpStructs.offset(XdpStructs.MMAP_OFFSETS, ring, "desc")),
                offsets.get(JAVA_LONG, XdpStructs.offset(XdpStructs.MMAP_OFFSETS, ring, "flags")));
    }

    /** Bytes to map for a ring of {@code size} entries of {@code entrySize} bytes. */
    long mappingLength(int size, long entrySize) {
        return desc + size * entrySize;
    }
}
