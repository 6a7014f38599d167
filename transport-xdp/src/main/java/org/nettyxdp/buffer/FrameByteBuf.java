package org.nettyxdp.buffer;

import io.netty.buffer.AbstractReferenceCountedByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

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
 * The memory side of {@link UmemByteBuf}: a direct {@link ByteBuf} whose index {@code i} is byte
 * {@code head + i} of one frame's memory, with the accessors, bulk copies and NIO views every
 * {@code ByteBuf} needs; the subclass moves {@code head} (the packet's head) and owns the frame.
 */
abstract class FrameByteBuf extends AbstractReferenceCountedByteBuf {
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

    private final ByteBufAllocator alloc;
    /**
     * The bytes after the kernel's headroom of the frame this buffer is over now ({@link #bindFrame}):
     * indexes are {@link #head} plus an offset into it.
     */
    MemorySegment frame;
    /** {@link #frame} as an NIO buffer. */
    private ByteBuffer frameNio;
    /** Where index 0 lies in {@link #frame}: the headroom below the packet. */
    int head;
    int capacity;

    FrameByteBuf(ByteBufAllocator alloc, int frameCapacity) {
        super(frameCapacity);
        this.alloc = alloc;
        this.capacity = frameCapacity;
    }

    /** Puts this buffer over another frame's data area, {@code frame}, and its NIO view {@code frameNio}. */
    final void bindFrame(MemorySegment frame, ByteBuffer frameNio) {
        this.frame = frame;
        this.frameNio = frameNio;
    }

    /**
     * A duplicate of the frame's NIO view for {@link #internalNioBuffer}, the same object every time
     * for the same frame (its position and limit are the caller's).
     */
    abstract ByteBuffer internalFrameNio();

    final long at(int index) {
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

    /** The native address of index 0; valid only while this buffer is held (see {@link UmemByteBuf}). */
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
        if (dst instanceof FrameByteBuf u) {
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
        if (src instanceof FrameByteBuf u) {
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
        ByteBuffer tmp = internalFrameNio();
        int from = (int) at(index);
        return tmp.clear().position(from).limit(from + length);
    }

    /** A new NIO buffer over {@code [index, index + length)}, position 0; bounds already checked. */
    private ByteBuffer slice0(int index, int length) {
        return frameNio.slice((int) at(index), length);
    }
}
