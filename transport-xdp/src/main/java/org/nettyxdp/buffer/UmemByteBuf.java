package org.nettyxdp.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.packet.PacketException;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A direct {@link ByteBuf} over one UMEM frame: received datagrams arrive in one, with no copy, and
 * {@link #release()} hands the frame back for the next packet.
 *
 * <h2>The buffer contract</h2>
 * A received datagram's content behaves like the content any Netty transport delivers: index 0 and
 * the {@link #readerIndex() reader index} are the first payload byte, the {@link #writerIndex() writer
 * index} is its end, and absolute indexes, {@code slice}, {@code duplicate}, {@code nioBuffer},
 * {@code memoryAddress}, {@code capacity} and {@code discardReadBytes} work as on any direct buffer.
 * The capacity runs to the end of the frame (the tailroom is writable), and the buffer cannot grow
 * past it ({@link #maxCapacity()}).
 *
 * <h2>The packet</h2>
 * Like the packet of an XDP program, the buffer's index 0 is the packet's head and its writer index
 * the tail. Below the head lies the frame's {@link #headroom() headroom} (for a received datagram,
 * where its Ethernet, IP and UDP headers were), outside the buffer. {@link #adjustHead(int)
 * adjustHead(-n)} grows the packet down into it and <em>re-bases</em> the buffer: index 0 moves to the
 * new head, so the {@code n} bytes become indexes {@code 0..n-1} and every old index {@code i} becomes
 * {@code i + n}. {@code adjustHead(+n)} drops {@code n} bytes from the front the same way.
 * After {@code adjustHead} the readable bytes are the whole packet: the reader index is 0 and the
 * writer index stays on the tail. {@link #adjustTail(int)} moves the end (the writer index). The
 * channel uses the same headroom to prepend a reply's headers: writing a received buffer back sends
 * its own frame, with no copy.
 *
 * <pre>{@code
 * ByteBuf content = datagram.content();     // "hello": index 0 is 'h', readerIndex 0, writerIndex 5
 * UmemByteBuf frame = (UmemByteBuf) content;
 * frame.headroom();                         // 42: Ethernet + IPv4 + UDP header bytes below index 0
 * frame.adjustHead(-2);                     // the packet grows by two bytes in front
 * frame.setShort(0, 0xCAFE);                // index 0 is the new head; 'h' is now at index 2
 * frame.headroom();                         // 40
 * frame.adjustTail(-3);                     // the packet ends after "he": writerIndex 4
 * }</pre>
 *
 * Slices and duplicates index relative to this buffer, so ones taken before a re-base see the moved
 * indexes.
 *
 * <h2>Lifetime and what is safe</h2>
 * Buffer objects are recycled, like Netty's pooled buffers: do not touch one after releasing it.
 * Until the object carries another datagram, the buffer and its slices and duplicates then throw
 * {@link io.netty.util.IllegalReferenceCountException}; a second release throws it too and frees
 * nothing. The UMEM stays mapped until the application has released every buffer of it (also after
 * its channel closed); every access through the buffer, its slices, duplicates and
 * {@link #nioBuffer() NIO buffers} checks that the memory is still mapped, so a kept NIO buffer used
 * after the unmap throws {@link IllegalStateException} rather than crashing the JVM. Only the raw
 * {@link #memoryAddress() memory address} is unchecked: use it (as native codecs do) while the buffer
 * is held, never after releasing it.
 */
public final class UmemByteBuf extends FrameByteBuf {
    private final UmemFramePool pool;
    private final int frameCapacity;
    private final int bufferIndex;
    private int frameIndex;
    private long frameAddr;
    /** The {@link #packet()} view, made on first use and reused for every frame this object carries. */
    private XdpPacket packet;
    private int options;

    UmemByteBuf(UmemFramePool pool, ByteBufAllocator alloc, int frameCapacity, int bufferIndex) {
        super(alloc, frameCapacity);
        this.pool = pool;
        this.frameCapacity = frameCapacity;
        this.bufferIndex = bufferIndex;
    }

    /** Puts this (free) buffer object over frame {@code frameIndex} at UMEM offset {@code frameAddr}. */
    void bind(int frameIndex, long frameAddr, MemorySegment frame, ByteBuffer frameNio) {
        this.frameIndex = frameIndex;
        this.frameAddr = frameAddr;
        bindFrame(frame, frameNio);
    }

    @Override
    ByteBuffer internalFrameNio() {
        return pool.internalNio(frameIndex);
    }

    /** Makes this buffer live again for a packet in {@code [head, tail)} of the frame's data area. */
    void reuse(int head, int tail, int options) {
        this.head = head;
        this.capacity = frameCapacity - head;
        maxCapacity(capacity);
        this.options = options;
        resetRefCnt();
        clear();
        markReaderIndex();
        markWriterIndex();
        writerIndex(tail - head);
    }

    /**
     * The pool's reference, the last one, is dropped by the pool itself, which frees the frame in the
     * same step: the count goes to 0 (so later use throws, as after {@code release()}) without the
     * trip through {@link #deallocate}.
     */
    void dropLastReference() {
        setRefCnt(0);
    }

    @Override
    protected void deallocate() {
        // the memory belongs to the UMEM: the frame goes back to its pool, the object is reused
        pool.release(this);
    }

    UmemFramePool pool() {
        return pool;
    }

    /**
     * Index of this buffer object among its pool's ({@code 0} to {@link UmemFramePool#bufferCount()}
     * {@code - 1}): fixed for the object's life, while the frame it is over changes from one datagram to
     * the next (the pool recycles its most recently freed objects first, so they stay in the cache).
     */
    public int bufferIndex() {
        return bufferIndex;
    }

    /** Index of the frame in its UMEM. */
    public int frameIndex() {
        return frameIndex;
    }

    /** UMEM offset of the frame's first byte (before the kernel's headroom). */
    public long frameAddress() {
        return frameAddr;
    }

    /**
     * Bytes of the frame below index 0 (after the kernel's reserved {@value XdpPacket#XDP_PACKET_HEADROOM}):
     * how far {@link #adjustHead(int)} can grow the packet down.
     */
    public int headroom() {
        return head;
    }

    /** Bytes of the frame above the writer index: how far {@link #adjustTail(int)} can grow the packet. */
    public int tailroom() {
        return maxCapacity() - writerIndex();
    }

    /** Descriptor options the packet arrived with ({@link #isContinued()}). */
    public int options() {
        return options;
    }

    /** True if the packet continues in another frame (multi-buffer). */
    public boolean isContinued() {
        return (options & XdpPacket.XDP_PKT_CONTD) != 0;
    }

    /**
     * Moves the packet's head and re-bases the buffer on it: a negative {@code diff} grows the packet
     * into the headroom, a positive one drops {@code diff} bytes from the front. Index 0 is the new
     * head; the reader index becomes 0 and the writer index stays on the tail.
     *
     * @return this
     * @throws PacketException {@code INSUFFICIENT_HEADROOM} if {@code -diff} exceeds {@link #headroom()};
     *         {@code INVALID_PACKET_LENGTH} if {@code diff} exceeds the writer index, as
     *         {@link XdpPacket#adjustHead(int)}
     */
    public UmemByteBuf adjustHead(int diff) {
        ensureAccessible();
        int tail = writerIndex();
        if (diff < 0) {
            if (-(long) diff > head) {
                throw PacketException.insufficientHeadroom(-(long) diff, head);
            }
        } else if (diff > tail) {
            throw PacketException.invalidPacketLength();
        }
        head += diff;
        capacity -= diff;
        maxCapacity(frameCapacity - head);
        setIndex(0, tail - diff);
        markReaderIndex();
        markWriterIndex();
        return this;
    }

    /**
     * Moves the packet's tail (the writer index): a positive {@code diff} extends it into the
     * tailroom (exposing the bytes there as they are), a negative one truncates it.
     *
     * @return this
     * @throws PacketException {@code INVALID_PACKET_LENGTH} if the tail would pass index 0 or the end
     *         of the frame, as {@link XdpPacket#adjustTail(int)}
     */
    public UmemByteBuf adjustTail(int diff) {
        ensureAccessible();
        int tail = writerIndex();
        if (diff < 0 ? -(long) diff > tail : diff > maxCapacity() - tail) {
            throw PacketException.invalidPacketLength();
        }
        int newTail = tail + diff;
        if (newTail > capacity) {
            capacity = newTail;
        }
        setIndex(Math.min(readerIndex(), newTail), newTail);
        return this;
    }

    /**
     * This frame as an {@link XdpPacket}, for typed header access ({@code packet.read(0, ethHdr)}) and
     * in-place edits, its head on index 0 and its tail on the writer index. The view is reused (no
     * allocation per frame) and reset by every call: take it again after moving the buffer's head or
     * tail. Length changes made through the view ({@code adjustHead}, {@code adjustTail},
     * {@code insert}, {@code append}) reach the buffer with {@link #syncFromPacket()}. TX metadata
     * ({@link XdpPacket#setTxMetadata}) is accepted only where the device and the UMEM support it.
     */
    public XdpPacket packet() {
        ensureAccessible();
        XdpPacket p = packet;
        if (p == null) {
            packet = p = new XdpPacket(pool.region(), pool.frameSize(), pool.txOffloads());
        }
        return p.reset(frameAddr, head, head + writerIndex(), options);
    }

    /**
     * Takes over the head, tail and options the {@link #packet()} view moved to: index 0 becomes its
     * head, the reader index 0 and the writer index its tail.
     *
     * @return this
     */
    public UmemByteBuf syncFromPacket() {
        ensureAccessible();
        XdpPacket p = packet;
        if (p == null || p.frameAddr() != frameAddr) {
            throw new IllegalStateException("no packet view of this frame: call packet() first");
        }
        head = p.head();
        capacity = frameCapacity - head;
        maxCapacity(capacity);
        options = p.options();
        setIndex(0, p.tail() - head);
        markReaderIndex();
        markWriterIndex();
        return this;
    }

    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "UmemByteBuf(frame: " + frameIndex + ", freed)";
        }
        return "UmemByteBuf(frame: " + frameIndex + ", headroom: " + head + ", ridx: " + readerIndex() + ", widx: "
                + writerIndex() + ", cap: " + capacity() + '/' + maxCapacity() + ')';
    }
}
