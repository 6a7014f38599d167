package org.nettyxdp.packet;

/**
 * Thrown when an {@link XdpPacket} operation would leave the valid bounds of its frame or asks for
 * a TX offload the socket does not have.
 *
 * <p>Unchecked on purpose: like {@link IndexOutOfBoundsException}, every failure is either a
 * programming error or a malformed frame the caller can rule out beforehand with
 * {@link XdpPacket#len()}, {@link XdpPacket#head()} and {@link XdpPacket#tailroom()}. Hot paths that
 * parse untrusted frames should check lengths first rather than use this exception for control
 * flow.
 *
 * <p>The {@link #kind()} says what failed; each kind carries the numbers listed on it, and the
 * accessors of numbers a kind does not carry return {@code -1}. All offsets are relative to the
 * packet's head, and every {@code length} is the packet's {@link XdpPacket#len() length} at the time
 * of the call.
 */
public final class PacketException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The head could not move down by {@link #diff()} bytes: only {@link #head()} bytes of headroom. */
        INSUFFICIENT_HEADROOM("insufficient headroom"),
        /** The head would pass the tail, or the tail would pass the head or the frame's capacity. */
        INVALID_PACKET_LENGTH("invalid packet length"),
        /** {@link #offset()} lies beyond the packet's {@link #length()} (or the 4 KiB sanity limit). */
        INVALID_OFFSET("invalid offset"),
        /** {@link #size()} bytes at {@link #offset()} do not fit in the packet's {@link #length()}. */
        INSUFFICIENT_DATA("insufficient data"),
        /** TX checksum offload was requested but the socket was not set up for it. */
        CHECKSUM_UNSUPPORTED("TX checksum unsupported"),
        /** A TX timestamp was requested but the socket was not set up for it. */
        TIMESTAMP_UNSUPPORTED("TX timestamp unsupported");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** A short human-readable description, e.g. {@code "insufficient headroom"}. */
        public String description() {
            return description;
        }
    }

    /** See {@link #kind()}. */
    private final Kind kind;
    /** See {@link #diff()}. */
    private final long diff;
    /** See {@link #head()}. */
    private final long head;
    /** See {@link #offset()}. */
    private final long offset;
    /** See {@link #size()}. */
    private final long size;
    /** See {@link #length()}. */
    private final long length;

    private PacketException(Kind kind, long diff, long head, long offset, long size, long length) {
        super(null, null, false, true);
        this.kind = kind;
        this.diff = diff;
        this.head = head;
        this.offset = offset;
        this.size = size;
        this.length = length;
    }

    /** An {@link Kind#INSUFFICIENT_HEADROOM} error: the head cannot move down {@code diff} bytes from {@code head}. */
    public static PacketException insufficientHeadroom(long diff, int head) {
        return new PacketException(Kind.INSUFFICIENT_HEADROOM, diff, head, -1, -1, -1);
    }

    /** An {@link Kind#INVALID_PACKET_LENGTH} error. */
    public static PacketException invalidPacketLength() {
        return new PacketException(Kind.INVALID_PACKET_LENGTH, -1, -1, -1, -1, -1);
    }

    static PacketException invalidOffset(long offset, int length) {
        return new PacketException(Kind.INVALID_OFFSET, -1, -1, offset, -1, length);
    }

    static PacketException insufficientData(long offset, long size, int length) {
        return new PacketException(Kind.INSUFFICIENT_DATA, -1, -1, offset, size, length);
    }

    static PacketException checksumUnsupported() {
        return new PacketException(Kind.CHECKSUM_UNSUPPORTED, -1, -1, -1, -1, -1);
    }

    static PacketException timestampUnsupported() {
        return new PacketException(Kind.TIMESTAMP_UNSUPPORTED, -1, -1, -1, -1, -1);
    }

    /** What went wrong. */
    public Kind kind() {
        return kind;
    }

    /** {@link Kind#INSUFFICIENT_HEADROOM}: how many bytes the head was asked to move down. */
    public long diff() {
        return diff;
    }

    /** {@link Kind#INSUFFICIENT_HEADROOM}: the head position, i.e. the headroom that was available. */
    public long head() {
        return head;
    }

    /** {@link Kind#INVALID_OFFSET}, {@link Kind#INSUFFICIENT_DATA}: the offset asked for. */
    public long offset() {
        return offset;
    }

    /** {@link Kind#INSUFFICIENT_DATA}: how many bytes were asked for. */
    public long size() {
        return size;
    }

    /** {@link Kind#INVALID_OFFSET}, {@link Kind#INSUFFICIENT_DATA}: the packet length at the time. */
    public long length() {
        return length;
    }

    /** Built on demand, so throwing costs no string formatting. */
    @Override
    public String getMessage() {
        return switch (kind) {
            case INSUFFICIENT_HEADROOM -> kind.description + ": cannot move head down by " + diff
                    + " bytes, head is at " + head;
            case INVALID_OFFSET -> kind.description + ": offset " + offset + " is beyond packet length " + length;
            case INSUFFICIENT_DATA -> kind.description + ": " + size + " bytes at offset " + offset
                    + " exceed packet length " + length;
            default -> kind.description;
        };
    }
}
