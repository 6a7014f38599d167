package org.nettyxdp.socket;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One of the four single-producer/single-consumer rings an AF_XDP socket shares with the kernel.
 *
 * <p>The producer and consumer words are free-running 32-bit counters; Java {@code int} arithmetic
 * wraps exactly as the kernel's {@code u32} does. The side this process owns is published with
 * release semantics, the kernel's side is read with acquire semantics, so descriptors written before
 * a submit are visible to the kernel, and descriptors the kernel produced are visible after a peek.
 */
abstract sealed class XdpRing permits ProducerRing, ConsumerRing {
    static final VarHandle INT = JAVA_INT.varHandle();

    final MemorySegment map;
    final int size;
    final int mask;
    final long producerOffset;
    final long consumerOffset;
    final long flagsOffset;
    final long descOffset;

    XdpRing(MemorySegment map, int size, RingOffsets offsets) {
        this.map = map;
        this.size = size;
        this.mask = size - 1;
        this.producerOffset = offsets.producer();
        this.consumerOffset = offsets.consumer();
        this.flagsOffset = offsets.flags();
        this.descOffset = offsets.desc();
    }

    /** Number of slots. */
    public final int size() {
        return size;
    }

    /** True when the kernel asks to be woken up to make progress on this ring (need-wakeup mode). */
    public final boolean needsWakeup() {
        return ((int) INT.getAcquire(map, flagsOffset) & XdpConstants.XDP_RING_NEED_WAKEUP) != 0;
    }

    /** Entries produced and not yet consumed, as seen now (for accounting and tests). */
    public final int entries() {
        int prod = (int) INT.getAcquire(map, producerOffset);
        int cons = (int) INT.getAcquire(map, consumerOffset);
        return prod - cons;
    }
}
