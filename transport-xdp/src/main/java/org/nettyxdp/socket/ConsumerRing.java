package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;

/**
 * A ring this process consumes from (RX and completion): peek entries, read them, then release.
 *
 * <pre>{@code
 * int n = ring.peek(batch);
 * for (int i = 0; i < n; i++) { ... read entry i ... }
 * ring.release(n);
 * }</pre>
 */
abstract sealed class ConsumerRing extends XdpRing permits RxRing, CompletionRing {
    /** Our consumer index, published on release. */
    private int consumer;
    /** Producer index as last read from the kernel. */
    private int cachedProducer;

    ConsumerRing(MemorySegment map, int size, RingOffsets offsets) {
        super(map, size, offsets);
        this.consumer = (int) INT.getAcquire(map, consumerOffset);
        this.cachedProducer = (int) INT.getAcquire(map, producerOffset);
    }

    /** Makes up to {@code max} entries available as {@code 0 .. n-1}; returns n (0 when empty). */
    public final int peek(int max) {
        int available = cachedProducer - consumer;
        if (available < max) {
            cachedProducer = (int) INT.getAcquire(map, producerOffset);
            available = cachedProducer - consumer;
        }
        return Math.min(available, max);
    }

    /** Returns the first {@code n} peeked entries to the kernel. */
    public final void release(int n) {
        consumer += n;
        INT.setRelease(map, consumerOffset, consumer);
    }

    /** Byte offset in the mapping of peeked entry {@code i}. */
    final long slot(int i, long entrySize) {
        return descOffset + (long) ((consumer + i) & mask) * entrySize;
    }
}
