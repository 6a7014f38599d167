package org.nettyxdp.buffer;

import io.netty.buffer.AbstractReferenceCountedByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.packet.PacketException;
import org.nettyxdp.packet.XdpPacket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

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
 * Buffer objects are reused frame by frame, like Netty's pooled buffers: do not touch one after
 * releasing it. Until the frame is reused, the buffer and its slices and duplicates then throw
 * {@link io.netty.util.IllegalReferenceCountException}; a second release throws it too and frees
 * nothing. The UMEM stays mapped until the application has released every buffer of it (also after
 * its channel closed); every access through the buffer, its slices, duplicates and
 * {@link #nioBuffer() NIO buffers} checks that the memory is still mapped, so a kept NIO buffer used
 * after the unmap throws {@link IllegalStateException} rather than crashing the JVM. Only the raw
 * {@link #memoryAddress() memory address} is unchecked: use it (as native codecs do) while the buffer
 * is held, never after releasing it.
 */
public final class UmemByteBuf extends AbstractReferenceCountedByteBuf {
    private static final ValueLayout.OfShort SHORT_BE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final UmemFramePool pool;
    private final ByteBufAllocator alloc;
    /** The frame's bytes after the kernel's headroom: indexes are {@link #head} plus an offset into it. */
    private final MemorySegment frame;
    private final int frameCapacity;
    private final int frameIndex;
    private final long frameAddr;
    /** {@link #frame} as an NIO buffer, and a duplicate of it for {@link #internalNioBuffer} (made on first use). */
    private final ByteBuffer frameNio;
    private ByteBuffer tmpNio;
    /** The {@link #packet()} view, made on first use and reused for every frame this object carries. */
    private XdpPacket packet;
    /** Where index 0 lies in {@link #frame}: the headroom below the packet. */
    private int head;
    private int capacity;
    private int options;

    UmemByteBuf(UmemFramePool pool, ByteBufAllocator alloc, MemorySegment frame, int frameIndex, long frameAddr) {
        super((int) frame.byteSize());
        this.pool = pool;
        this.alloc = alloc;
        this.frame = frame;
        this.frameCapacity = (int) frame.byteSize();
        this.frameIndex = frameIndex;
        this.frameAddr = frameAddr;
        this.frameNio = frame.asByteBuffer();
        this.capacity = frameCapacity;
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

    @Override
    protected void deallocate() {
        // the memory belongs to the UMEM: the frame goes back to its pool, the object is reused
        pool.release(this);
    }

    UmemFramePool pool() {
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

    // ----------------------------------------------------------------------------------- ByteBuf

    private long at(int index) {
        return (long) head + index;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        checkNewCapacity(newCapacity);
        if (newCapacity < capacity) {
            trimIndicesToCapacity(newCapacity);
        }
        capacity = newCapacity;
        return this;
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    @SuppressWarnings("deprecation")
    public ByteOrder order() {
        return ByteOrder.BIG_ENDIAN;
    }

    @Override
    public ByteBuf unwrap() {
        return null;
    }

    @Override
    public boolean isDirect() {
        return true;
    }

    @Override
    public boolean isContiguous() {
        return true;
    }

    @Override
    public boolean hasArray() {
        return false;
    }

    @Override
    public byte[] array() {
        throw new UnsupportedOperationException("direct buffer");
    }

    @Override
    public int arrayOffset() {
        throw new UnsupportedOperationException("direct buffer");
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    /** The native address of index 0; valid only while this buffer is held (see the class comment). */
    @Override
    public long memoryAddress() {
        ensureAccessible();
        return frame.address() + head;
    }

    @Override
    protected byte _getByte(int index) {
        return frame.get(JAVA_BYTE, at(index));
    }

    @Override
    protected short _getShort(int index) {
        return frame.get(SHORT_BE, at(index));
    }

    @Override
    protected short _getShortLE(int index) {
        return frame.get(SHORT_LE, at(index));
    }

    @Override
    protected int _getUnsignedMedium(int index) {
        return (_getByte(index) & 0xff) << 16 | _getShort(index + 1) & 0xffff;
    }

    @Override
    protected int _getUnsignedMediumLE(int index) {
        return _getByte(index) & 0xff | (_getShortLE(index + 1) & 0xffff) << 8;
    }

    @Override
    protected int _getInt(int index) {
        return frame.get(INT_BE, at(index));
    }

    @Override
    protected int _getIntLE(int index) {
        return frame.get(INT_LE, at(index));
    }

    @Override
    protected long _getLong(int index) {
        return frame.get(LONG_BE, at(index));
    }

    @Override
    protected long _getLongLE(int index) {
        return frame.get(LONG_LE, at(index));
    }

    @Override
    protected void _setByte(int index, int value) {
        frame.set(JAVA_BYTE, at(index), (byte) value);
    }

    @Override
    protected void _setShort(int index, int value) {
        frame.set(SHORT_BE, at(index), (short) value);
    }

    @Override
    protected void _setShortLE(int index, int value) {
        frame.set(SHORT_LE, at(index), (short) value);
    }

    @Override
    protected void _setMedium(int index, int value) {
        _setByte(index, value >>> 16);
        _setShort(index + 1, value);
    }

    @Override
    protected void _setMediumLE(int index, int value) {
        _setByte(index, value);
        _setShortLE(index + 1, value >>> 8);
    }

    @Override
    protected void _setInt(int index, int value) {
        frame.set(INT_BE, at(index), value);
    }

    @Override
    protected void _setIntLE(int index, int value) {
        frame.set(INT_LE, at(index), value);
    }

    @Override
    protected void _setLong(int index, long value) {
        frame.set(LONG_BE, at(index), value);
    }

    @Override
    protected void _setLongLE(int index, long value) {
        frame.set(LONG_LE, at(index), value);
    }

    @Override
    public ByteBuf getBytes(int index, ByteBuf dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.capacity());
        if (dst instanceof UmemByteBuf u) {
            u.ensureAccessible();
            MemorySegment.copy(frame, at(index), u.frame, u.at(dstIndex), length);
        } else if (dst.hasArray()) {
            getBytes(index, dst.array(), dst.arrayOffset() + dstIndex, length);
        } else if (dst.nioBufferCount() > 0) {
            for (ByteBuffer bb : dst.nioBuffers(dstIndex, length)) {
                int n = bb.remaining();
                getBytes(index, bb);
                index += n;
            }
        } else {
            dst.setBytes(dstIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, byte[] dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.length);
        MemorySegment.copy(frame, JAVA_BYTE, at(index), dst, dstIndex, length);
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, ByteBuffer dst) {
        checkIndex(index, dst.remaining());
        FrameCopies.toNio(frame, at(index), dst);
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, OutputStream out, int length) throws IOException {
        checkIndex(index, length);
        FrameCopies.toStream(frame, at(index), out, length);
        return this;
    }

    @Override
    public int getBytes(int index, GatheringByteChannel out, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(slice0(index, length));
    }

    @Override
    public int getBytes(int index, FileChannel out, long position, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(slice0(index, length), position);
    }

    @Override
    public ByteBuf setBytes(int index, ByteBuf src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.capacity());
        if (src instanceof UmemByteBuf u) {
            u.ensureAccessible();
            MemorySegment.copy(u.frame, u.at(srcIndex), frame, at(index), length);
        } else if (src.hasArray()) {
            setBytes(index, src.array(), src.arrayOffset() + srcIndex, length);
        } else {
            src.getBytes(srcIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, byte[] src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.length);
        MemorySegment.copy(src, srcIndex, frame, JAVA_BYTE, at(index), length);
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, ByteBuffer src) {
        checkIndex(index, src.remaining());
        FrameCopies.fromNio(src, frame, at(index));
        return this;
    }

    @Override
    public int setBytes(int index, InputStream in, int length) throws IOException {
        checkIndex(index, length);
        return FrameCopies.fromStream(in, frame, at(index), length);
    }

    @Override
    public int setBytes(int index, ScatteringByteChannel in, int length) throws IOException {
        checkIndex(index, length);
        return FrameCopies.fromChannel(in, slice0(index, length));
    }

    @Override
    public int setBytes(int index, FileChannel in, long position, int length) throws IOException {
        checkIndex(index, length);
        return FrameCopies.fromFile(in, position, slice0(index, length));
    }

    @Override
    public ByteBuf copy(int index, int length) {
        checkIndex(index, length);
        ByteBuf copy = alloc().directBuffer(length, maxCapacity());
        return copy.writeBytes(slice0(index, length));
    }

    @Override
    public int nioBufferCount() {
        return 1;
    }

    @Override
    public ByteBuffer nioBuffer(int index, int length) {
        checkIndex(index, length);
        return slice0(index, length);
    }

    @Override
    public ByteBuffer[] nioBuffers(int index, int length) {
        return new ByteBuffer[] {nioBuffer(index, length)};
    }

    @Override
    public ByteBuffer internalNioBuffer(int index, int length) {
        checkIndex(index, length);
        ByteBuffer tmp = tmpNio;
        if (tmp == null) {
            tmpNio = tmp = frameNio.duplicate();
        }
        int from = (int) at(index);
        return tmp.clear().position(from).limit(from + length);
    }

    /** A new NIO buffer over {@code [index, index + length)}, position 0; bounds already checked. */
    private ByteBuffer slice0(int index, int length) {
        return frameNio.slice((int) at(index), length);
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
