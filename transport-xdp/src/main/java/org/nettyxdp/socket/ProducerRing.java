package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

/**
 * A ring this process produces into (fill and TX): reserve slots, write them, then submit.
 *
 * <pre>{@code
 * int n = ring.reserve(batch);
 * for (int i = 0; i < n; i++) { ... write slot i ... }
 * ring.submit(n);
 * }</pre>
 */
abstract sealed class ProducerRing extends XdpRing permits FillRing, TxRing {
    /** Our producer index, published on submit. */
    private int producer;
    /** Consumer index plus size, as last read from the kernel: bound for reservations. */
    private int cachedLimit;
    /** Producer index at which the current reservation starts. */
    int reserved;

    ProducerRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
        this.producer = (int) INT.getAcquire(map, producerOffset);
        this.cachedLimit = (int) INT.getAcquire(map, consumerOffset) + size;
    }

    /**
     * Reserves up to {@code max} slots; returns how many (0 when the ring is full). Slots are then
     * addressed as {@code 0 .. n-1} until {@link #submit(int)}.
     */
    public final int reserve(int max) {
        int free = cachedLimit - producer;
        if (free < max) {
            cachedLimit = (int) INT.getAcquire(map, consumerOffset) + size;
            free = cachedLimit - producer;
        }
        int n = Math.min(free, max);
        reserved = producer;
        return n;
    }

    /** Free slots right now (reads the kernel's consumer index). */
    public final int free() {
        cachedLimit = (int) INT.getAcquire(map, consumerOffset) + size;
        return cachedLimit - producer;
    }

    /** Publishes the first {@code n} reserved slots to the kernel. */
    public final void submit(int n) {
        producer += n;
        INT.setRelease(map, producerOffset, producer);
    }

    /** Byte offset in the mapping of reserved slot {@code i}. */
    final long slot(int i, long entrySize) {
        return descOffset + (long) ((reserved + i) & mask) * entrySize;
    }
}
