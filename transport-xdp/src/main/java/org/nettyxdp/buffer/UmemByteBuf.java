package org.nettyxdp.buffer;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import org.nettyxdp.packet.PacketException;
import org.nettyxdp.packet.XdpPacket;

import java.nio.ByteBuffer;

/**
 * A {@link io.netty.buffer.ByteBuf} over one UMEM frame: received datagrams arrive in one, with no
 * copy, and {@link #release()} hands the frame back to the kernel for the next packet.
 *
 * <p>It carries the packet semantics of {@link XdpPacket}: index 0 is the first byte after the
 * kernel's reserved headroom, the reader index is the packet's head and the writer index its tail.
 * The bytes below the reader index are headroom: {@link #adjustHead(int) adjustHead(-n)} grows the
 * packet into it, which is how a reply gets its Ethernet, IP and UDP headers prepended in place.
 * The buffer cannot grow past its frame ({@link #maxCapacity()}).
 *
 * <p>Buffer objects are reused frame by frame, like Netty's pooled buffers: do not touch one after
 * releasing it.
 */
public final class UmemByteBuf extends UnpooledDirectByteBuf {
    private final UmemFramePool pool;
    private final int frameIndex;
    private final long frameAddr;
    private int options;

    UmemByteBuf(UmemFramePool pool, ByteBufAllocator alloc, ByteBuffer frameData, int frameIndex, long frameAddr) {
        super(alloc, frameData, frameData.capacity());
        this.pool = pool;
        this.frameIndex = frameIndex;
        this.frameAddr = frameAddr;
    }

    /** Makes this buffer live again for a new packet in {@code [head, tail)}. */
    void reuse(int head, int tail, int options) {
        resetRefCnt();
        setIndex(head, tail);
        this.options = options;
    }

    @Override
    protected void deallocate() {
        // the memory belongs to the UMEM: the frame goes back to its pool, the object is reused
        pool.release(this);
    }

    /** The pool (and so the UMEM) this frame belongs to. */
    public UmemFramePool pool() {
        return pool;
    }

    /** Index of the frame in its UMEM. */
    public int frameIndex() {
        return frameIndex;
    }

    /** UMEM offset of the frame's first byte (before the kernel's headroom). */
    public long frameAddress() {
        return frameAddr;
    }

    /** UMEM address of the packet's first byte (the reader index), as a descriptor wants it. */
    public long packetAddress() {
        return frameAddr + XdpPacket.XDP_PACKET_HEADROOM + readerIndex();
    }

    /** Bytes of headroom below the packet (the reader index). */
    public int headroom() {
        return readerIndex();
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
     * Moves the packet's head: a positive {@code diff} drops bytes from the front, a negative one
     * grows the packet into the headroom.
     *
     * @throws PacketException {@code INSUFFICIENT_HEADROOM} or {@code INVALID_PACKET_LENGTH}, as
     *         {@link XdpPacket#adjustHead(int)}
     */
    public UmemByteBuf adjustHead(int diff) {
        ensureAccessible();
        XdpPacket view = pool.view(this);
        view.adjustHead(diff);
        readerIndex(view.head());
        return this;
    }

    /**
     * Moves the packet's tail: a positive {@code diff} extends it into the tailroom, a negative one
     * truncates it.
     *
     * @throws PacketException as {@link XdpPacket#adjustTail(int)}
     */
    public UmemByteBuf adjustTail(int diff) {
        ensureAccessible();
        XdpPacket view = pool.view(this);
        view.adjustTail(diff);
        writerIndex(view.tail());
        return this;
    }

    @Override
    public String toString() {
        return "UmemByteBuf(frame: " + frameIndex + ", ridx: " + readerIndex() + ", widx: " + writerIndex()
                + ", cap: " + capacity() + ", refCnt: " + refCnt() + ')';
    }
}
