package org.nettyxdp.packet;

/**
 * An IPv4 header (RFC 791). The view covers the fixed {@value #LEN} bytes; options, if the
 * {@link #headerLength() IHL} says there are any, follow them. Addresses are {@code int}s whose most
 * significant byte is the first octet (as {@code Inet4Address.getAddress()} would order them).
 */
public final class Ipv4Hdr extends Header {

    /** Length of the header without options. */
    public static final int LEN = 20;
    /** Longest header, options included. */
    public static final int MAX_LEN = 60;

    private static final int VERSION_IHL = 0;
    private static final int TOS = 1;
    private static final int TOTAL_LENGTH = 2;
    private static final int IDENTIFICATION = 4;
    private static final int FLAGS_FRAGMENT = 6;
    private static final int TTL = 8;
    private static final int PROTOCOL = 9;
    private static final int CHECKSUM = 10;
    private static final int SOURCE = 12;
    private static final int DESTINATION = 16;

    private static final int FLAG_DONT_FRAGMENT = 0x4000;
    private static final int FLAG_MORE_FRAGMENTS = 0x2000;
    private static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    /** A view pointing nowhere; point it with {@link XdpPacket#read} or {@link #wrap}. */
    public Ipv4Hdr() {
        super(LEN);
    }

    /**
     * Zeroes the header, then sets version 4, IHL 5 (no options), the TTL and the protocol. Lengths,
     * addresses and the checksum are left for the caller.
     */
    public void reset(int ttl, int protocol) {
        zero(0, LEN);
        putU8(VERSION_IHL, 0x45);
        putU8(TTL, ttl);
        putU8(PROTOCOL, protocol);
    }

    /** The IP version nibble (4 for a well-formed header). */
    public int version() {
        return getU8(VERSION_IHL) >>> 4;
    }

    /** The Internet Header Length field, in 32-bit words (5..15 when well formed). */
    public int ihl() {
        return getU8(VERSION_IHL) & 0x0F;
    }

    /** The header length in bytes, options included: {@code ihl() * 4}. */
    public int headerLength() {
        return ihl() * 4;
    }

    /**
     * Sets the header length in bytes, options included, keeping the version.
     *
     * @throws IllegalArgumentException unless a multiple of 4 in [{@value #LEN}, {@value #MAX_LEN}]
     */
    public void setHeaderLength(int bytes) {
        if (bytes < LEN || bytes > MAX_LEN || (bytes & 3) != 0) {
            throw new IllegalArgumentException("IPv4 header length must be a multiple of 4 in [20, 60]: " + bytes);
        }
        putU8(VERSION_IHL, getU8(VERSION_IHL) & 0xF0 | bytes >>> 2);
    }

    /** The type-of-service byte (DSCP and ECN). */
    public int tos() {
        return getU8(TOS);
    }

    /** Sets the type-of-service byte (DSCP and ECN). */
    public void setTos(int tos) {
        putU8(TOS, tos);
    }

    /** The total length of the datagram (header, options and payload) in bytes. */
    public int totalLength() {
        return getU16(TOTAL_LENGTH);
    }

    /** Sets the total length of the datagram in bytes. */
    public void setTotalLength(int length) {
        putU16(TOTAL_LENGTH, length);
    }

    /** The identification field. */
    public int identification() {
        return getU16(IDENTIFICATION);
    }

    /** Sets the identification field. */
    public void setIdentification(int identification) {
        putU16(IDENTIFICATION, identification);
    }

    /** The raw 16-bit flags and fragment-offset field. */
    public int flagsAndFragmentOffset() {
        return getU16(FLAGS_FRAGMENT);
    }

    /** Sets the raw 16-bit flags and fragment-offset field. */
    public void setFlagsAndFragmentOffset(int value) {
        putU16(FLAGS_FRAGMENT, value);
    }

    /** The DF (don't fragment) flag. */
    public boolean dontFragment() {
        return (getU16(FLAGS_FRAGMENT) & FLAG_DONT_FRAGMENT) != 0;
    }

    /** Sets or clears the DF flag, keeping the other bits. */
    public void setDontFragment(boolean dontFragment) {
        int value = getU16(FLAGS_FRAGMENT);
        putU16(FLAGS_FRAGMENT, dontFragment ? value | FLAG_DONT_FRAGMENT : value & ~FLAG_DONT_FRAGMENT);
    }

    /** The MF (more fragments) flag. */
    public boolean moreFragments() {
        return (getU16(FLAGS_FRAGMENT) & FLAG_MORE_FRAGMENTS) != 0;
    }

    /** The fragment offset in bytes (the field counts 8-byte units). */
    public int fragmentOffset() {
        return (getU16(FLAGS_FRAGMENT) & FRAGMENT_OFFSET_MASK) * 8;
    }

    /** True if this datagram is a fragment: MF set or a non-zero fragment offset. */
    public boolean isFragment() {
        return (getU16(FLAGS_FRAGMENT) & (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) != 0;
    }

    /** The time to live (hop count). */
    public int ttl() {
        return getU8(TTL);
    }

    /** Sets the time to live. */
    public void setTtl(int ttl) {
        putU8(TTL, ttl);
    }

    /** The payload protocol; see {@link IpProto}. */
    public int protocol() {
        return getU8(PROTOCOL);
    }

    /** Sets the payload protocol; see {@link IpProto}. */
    public void setProtocol(int protocol) {
        putU8(PROTOCOL, protocol);
    }

    /** The header checksum field as stored. */
    public int checksum() {
        return getU16(CHECKSUM);
    }

    /** Sets the header checksum field. */
    public void setChecksum(int checksum) {
        putU16(CHECKSUM, checksum);
    }

    /** The source address, first octet most significant. */
    public int source() {
        return getI32(SOURCE);
    }

    /** Sets the source address, first octet most significant. */
    public void setSource(int address) {
        putI32(SOURCE, address);
    }

    /** The destination address, first octet most significant. */
    public int destination() {
        return getI32(DESTINATION);
    }

    /** Sets the destination address, first octet most significant. */
    public void setDestination(int address) {
        putI32(DESTINATION, address);
    }

    /**
     * Computes the header checksum over {@link #headerLength()} bytes and stores it.
     *
     * @throws IndexOutOfBoundsException if the IHL is below 5 or the options run past the bytes
     *         that were valid when the view was pointed
     */
    public void updateChecksum() {
        int length = headerLength();
        if (length < LEN) {
            throw new IndexOutOfBoundsException("IHL " + ihl() + " is below the minimum of 5");
        }
        checkLimit(length);
        setChecksum(Checksum.ipv4Header(segment(), offset(), length));
    }

    /**
     * True if the stored checksum matches the header. A header whose IHL is below 5 or whose options
     * run past the valid bytes is reported invalid, not thrown on.
     */
    public boolean isChecksumValid() {
        int length = headerLength();
        return length >= LEN && length <= limit() && Checksum.isValid(segment(), offset(), length);
    }
}
