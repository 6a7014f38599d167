package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import org.nettyxdp.buffer.UmemByteBuf;

import java.nio.ByteBuffer;

/**
 * Where the readable bytes of a buffer lie in UMEM frames, when they all do: the spans of
 * {@link UmemByteBuf}s they are made of, in order. A received multi-buffer datagram is a composite
 * over its frames; written back unchanged (or modified in place, or sliced), its bytes are still
 * those frames, and {@link #map} finds them without allocating.
 *
 * <p>It lets the buffer copy its bytes into a probe that records each source instead of copying: a
 * {@link io.netty.buffer.CompositeByteBuf} (or a slice, duplicate or leak-detecting wrapper of one)
 * hands each component's bytes on with the component itself as the source, and a
 * {@link UmemByteBuf} hands its own over as a buffer to the probe, which offers no memory of its
 * own. Bytes from anywhere else (heap or other direct memory, a component added by the handler)
 * reach the probe as arrays or other buffers, and the buffer is not all frames. Reused; event-loop
 * confined.
 */
final class FrameSpans {
    private final UmemByteBuf[] buffers;
    private final int[] indexes;
    private final int[] lengths;
    private final Probe probe = new Probe();
    private int count;
    private int total;
    private boolean foreign;

    /** Spans of at most {@code maxSpans} frames. */
    FrameSpans(int maxSpans) {
        buffers = new UmemByteBuf[maxSpans];
        indexes = new int[maxSpans];
        lengths = new int[maxSpans];
    }

    /**
     * Finds the frames holding the readable bytes of {@code content}. Returns false, leaving no
     * spans, if any byte lies elsewhere or more than {@code maxSpans} spans would be needed; adjacent
     * bytes of one frame make one span. Reads nothing but the buffer's structure, copies nothing.
     */
    boolean map(ByteBuf content) {
        count = 0;
        total = 0;
        foreign = false;
        int n = content.readableBytes();
        if (n == 0) {
            return false;
        }
        try {
            content.getBytes(content.readerIndex(), probe, 0, n);
        } catch (RuntimeException e) {
            foreign = true; // a buffer that will not hand its bytes over this way: the caller copies them
        }
        if (foreign || total != n) {
            clear();
            return false;
        }
        return true;
    }

    /** Spans found by the last successful {@link #map}. */
    int count() {
        return count;
    }

    /** The frame's buffer of span {@code i}. */
    UmemByteBuf buffer(int i) {
        return buffers[i];
    }

    /** The buffer index span {@code i} starts at. */
    int index(int i) {
        return indexes[i];
    }

    /** Bytes in span {@code i}. */
    int length(int i) {
        return lengths[i];
    }

    /** Forgets the spans (and the references to the frames' buffers). */
    void clear() {
        for (int i = 0; i < count; i++) {
            buffers[i] = null;
        }
        count = 0;
        total = 0;
    }

    private void add(int dstIndex, ByteBuf src, int srcIndex, int length) {
        if (length == 0 || foreign) {
            return;
        }
        if (!(src instanceof UmemByteBuf u) || dstIndex != total) {
            foreign = true;
            return;
        }
        int last = count - 1;
        if (last >= 0 && buffers[last] == u && indexes[last] + lengths[last] == srcIndex) {
            lengths[last] += length;
        } else if (count == buffers.length) {
            foreign = true;
            return;
        } else {
            buffers[count] = u;
            indexes[count] = srcIndex;
            lengths[count] = length;
            count++;
        }
        total += length;
    }

    /**
     * The destination buffers copy into: no array, no NIO buffers, no memory address, so every
     * source hands its bytes over through {@link #setBytes(int, ByteBuf, int, int)} or as an array
     * or NIO buffer. Holds no bytes (its own memory is empty); anything else written to it throws.
     */
    private final class Probe extends UnpooledDirectByteBuf {
        /** Larger than any datagram, so every bounds check on the destination passes. */
        private static final int CAPACITY = 1 << 20;

        Probe() {
            super(UnpooledByteBufAllocator.DEFAULT, 0, CAPACITY);
        }

        @Override
        public int capacity() {
            return CAPACITY;
        }

        @Override
        public int nioBufferCount() {
            return 0;
        }

        @Override
        public ByteBuf setBytes(int index, ByteBuf src, int srcIndex, int length) {
            add(index, src, srcIndex, length);
            return this;
        }

        @Override
        public ByteBuf setBytes(int index, byte[] src, int srcIndex, int length) {
            foreign |= length > 0;
            return this;
        }

        @Override
        public ByteBuf setBytes(int index, ByteBuffer src) {
            foreign |= src.hasRemaining();
            return this;
        }
    }
}
