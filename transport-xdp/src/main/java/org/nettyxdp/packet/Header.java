package org.nettyxdp.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable, allocation-free view of one protocol header in network byte order.
 *
 * <p>A view is pointed at memory either by {@link XdpPacket#read(int, Header)} (bounds-checked
 * against the packet) or by {@link #wrap(MemorySegment, long)} (bounds-checked against the segment,
 * e.g. a header template). Reads and writes go straight to that memory; nothing is copied. A view
 * is not thread-safe and does not notice later changes to the packet, so re-point it after
 * {@link XdpPacket#insert}, {@link XdpPacket#adjustHead} or a {@code reset}.
 */
public abstract sealed class Header permits EthHdr, Ipv4Hdr, Ipv6Hdr, UdpHdr {

    private MemorySegment segment = MemorySegment.NULL;
    private long offset;
    /** Bytes from {@link #offset} that were valid when the view was pointed; guards variable-length writes. */
    private long limit;
    /** The fixed part of the header: all of it, except for a tagged Ethernet header. */
    private final int minSize;

    Header(int minSize) {
        this.minSize = minSize;
    }

    /**
     * Points this view at {@code segment} starting at {@code offset}.
     *
     * @throws IndexOutOfBoundsException if the header ({@link #size()} bytes) does not fit
     */
    public final void wrap(MemorySegment segment, long offset) {
        long available = segment.byteSize() - offset;
        if (offset < 0 || available < minSize()) {
            throw new IndexOutOfBoundsException("header of " + minSize() + " bytes at offset " + offset
                    + " does not fit in a segment of " + segment.byteSize() + " bytes");
        }
        bind(segment, offset, available);
        if (size() > available) {
            throw new IndexOutOfBoundsException("header of " + size() + " bytes at offset " + offset
                    + " does not fit in a segment of " + segment.byteSize() + " bytes");
        }
    }

    /** Points the view without checks; callers have checked that {@code limit >= minSize()}. */
    final void bind(MemorySegment segment, long offset, long limit) {
        this.segment = segment;
        this.offset = offset;
        this.limit = limit;
    }

    /**
     * The bytes this view covers: the fixed header ({@code LEN} of each class), plus the VLAN tag for
     * a tagged Ethernet header, which is only known once the view points at memory. IPv4 options
     * are not covered.
     */
    public int size() {
        return minSize;
    }

    /** The bytes that must be readable before {@link #size()} can be asked. */
    final int minSize() {
        return minSize;
    }

    /** The memory this view points into. */
    public final MemorySegment segment() {
        return segment;
    }

    /** The offset of this header's first byte within {@link #segment()}. */
    public final long offset() {
        return offset;
    }

    /** Bytes from {@link #offset()} to the end of the packet (or segment) when the view was pointed. */
    final long limit() {
        return limit;
    }

    /** Fails unless {@code bytes} bytes from the header's start were valid when it was pointed. */
    final void checkLimit(long bytes) {
        if (bytes > limit) {
            throw new IndexOutOfBoundsException(
                    "needs " + bytes + " bytes from the header start, only " + limit + " available");
        }
    }

    final int getU8(long at) {
        return segment.get(ValueLayout.JAVA_BYTE, offset + at) & 0xFF;
    }

    final int getU16(long at) {
        return segment.get(NetworkOrder.U16, offset + at) & 0xFFFF;
    }

    final int getI32(long at) {
        return segment.get(NetworkOrder.U32, offset + at);
    }

    final void putU8(long at, int value) {
        segment.set(ValueLayout.JAVA_BYTE, offset + at, (byte) value);
    }

    final void putU16(long at, int value) {
        segment.set(NetworkOrder.U16, offset + at, (short) value);
    }

    final void putI32(long at, int value) {
        segment.set(NetworkOrder.U32, offset + at, value);
    }

    /** Zeroes {@code bytes} bytes from {@code at}, without the slice a {@code fill} would need. */
    final void zero(long at, int bytes) {
        long pos = offset + at;
        long end = pos + bytes;
        for (; pos + Long.BYTES <= end; pos += Long.BYTES) {
            segment.set(NetworkOrder.U64, pos, 0L);
        }
        for (; pos < end; pos++) {
            segment.set(ValueLayout.JAVA_BYTE, pos, (byte) 0);
        }
    }
}
