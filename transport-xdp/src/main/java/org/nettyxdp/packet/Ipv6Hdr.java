package org.nettyxdp.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The fixed IPv6 header (RFC 8200). Extension headers, if {@link #nextHeader()} names one, follow
 * it. Addresses are copied in and out of 16-byte arrays in network order.
 */
public final class Ipv6Hdr extends Header {

    /** Length of the fixed header. */
    public static final int LEN = 40;
    /** Length of an address. */
    public static final int ADDRESS_LEN = 16;

    private static final int VERSION_CLASS_FLOW = 0;
    private static final int PAYLOAD_LENGTH = 4;
    private static final int NEXT_HEADER = 6;
    private static final int HOP_LIMIT = 7;
    static final int SOURCE = 8;
    private static final int DESTINATION = 24;

    /** A view pointing nowhere; point it with {@link XdpPacket#read} or {@link #wrap}. */
    public Ipv6Hdr() {
        super(LEN);
    }

    /**
     * Zeroes the header, then sets version 6, the hop limit and the next header. Traffic class and
     * flow label stay 0; payload length and addresses are left for the caller.
     */
    public void reset(int hopLimit, int nextHeader) {
        zero(0, LEN);
        putU8(VERSION_CLASS_FLOW, 0x60);
        putU8(NEXT_HEADER, nextHeader);
        putU8(HOP_LIMIT, hopLimit);
    }

    /** The IP version nibble (6 for a well-formed header). */
    public int version() {
        return getU8(VERSION_CLASS_FLOW) >>> 4;
    }

    /** The 8-bit traffic class (DSCP and ECN). */
    public int trafficClass() {
        return getI32(VERSION_CLASS_FLOW) >>> 20 & 0xFF;
    }

    /** Sets the traffic class, keeping version and flow label. */
    public void setTrafficClass(int trafficClass) {
        int word = getI32(VERSION_CLASS_FLOW);
        putI32(VERSION_CLASS_FLOW, word & 0xF00F_FFFF | (trafficClass & 0xFF) << 20);
    }

    /** The 20-bit flow label. */
    public int flowLabel() {
        return getI32(VERSION_CLASS_FLOW) & 0x000F_FFFF;
    }

    /** Sets the flow label, keeping version and traffic class. */
    public void setFlowLabel(int flowLabel) {
        int word = getI32(VERSION_CLASS_FLOW);
        putI32(VERSION_CLASS_FLOW, word & 0xFFF0_0000 | flowLabel & 0x000F_FFFF);
    }

    /** The payload length in bytes: everything after this 40-byte header, extension headers included. */
    public int payloadLength() {
        return getU16(PAYLOAD_LENGTH);
    }

    /** Sets the payload length in bytes. */
    public void setPayloadLength(int length) {
        putU16(PAYLOAD_LENGTH, length);
    }

    /** The next header: the transport protocol or an extension header; see {@link IpProto}. */
    public int nextHeader() {
        return getU8(NEXT_HEADER);
    }

    /** Sets the next header; see {@link IpProto}. */
    public void setNextHeader(int nextHeader) {
        putU8(NEXT_HEADER, nextHeader);
    }

    /** The hop limit. */
    public int hopLimit() {
        return getU8(HOP_LIMIT);
    }

    /** Sets the hop limit. */
    public void setHopLimit(int hopLimit) {
        putU8(HOP_LIMIT, hopLimit);
    }

    /** Copies the source address into {@code dst[0..16)}. */
    public void getSource(byte[] dst) {
        copyOut(SOURCE, dst);
    }

    /** Sets the source address from {@code src[0..16)}. */
    public void setSource(byte[] src) {
        copyIn(SOURCE, src);
    }

    /** Copies the destination address into {@code dst[0..16)}. */
    public void getDestination(byte[] dst) {
        copyOut(DESTINATION, dst);
    }

    /** Sets the destination address from {@code src[0..16)}. */
    public void setDestination(byte[] src) {
        copyIn(DESTINATION, src);
    }

    private void copyOut(int at, byte[] dst) {
        checkAddress(dst);
        MemorySegment.copy(segment(), ValueLayout.JAVA_BYTE, offset() + at, dst, 0, ADDRESS_LEN);
    }

    private void copyIn(int at, byte[] src) {
        checkAddress(src);
        MemorySegment.copy(src, 0, segment(), ValueLayout.JAVA_BYTE, offset() + at, ADDRESS_LEN);
    }

    private static void checkAddress(byte[] address) {
        if (address.length != ADDRESS_LEN) {
            throw new IllegalArgumentException("an IPv6 address has 16 bytes, got " + address.length);
        }
    }
}
