package org.nettyxdp.packet;

/** A UDP header (RFC 768). For checksums see {@link Checksum#udp(Ipv4Hdr, UdpHdr)} and friends. */
public final class UdpHdr extends Header {

    /** Length of the header. */
    public static final int LEN = 8;

    private static final int SOURCE_PORT = 0;
    private static final int DESTINATION_PORT = 2;
    private static final int LENGTH = 4;
    static final int CHECKSUM = 6;

    /** A view pointing nowhere; point it with {@link XdpPacket#read} or {@link #wrap}. */
    public UdpHdr() {
        super(LEN);
    }

    /** The source port. */
    public int sourcePort() {
        return getU16(SOURCE_PORT);
    }

    /** Sets the source port. */
    public void setSourcePort(int port) {
        putU16(SOURCE_PORT, port);
    }

    /** The destination port. */
    public int destinationPort() {
        return getU16(DESTINATION_PORT);
    }

    /** Sets the destination port. */
    public void setDestinationPort(int port) {
        putU16(DESTINATION_PORT, port);
    }

    /** The length field: header plus payload, in bytes. */
    public int length() {
        return getU16(LENGTH);
    }

    /** Sets the length field: header plus payload, in bytes. */
    public void setLength(int length) {
        putU16(LENGTH, length);
    }

    /** The checksum field as stored (0 means "none" over IPv4). */
    public int checksum() {
        return getU16(CHECKSUM);
    }

    /** Sets the checksum field. */
    public void setChecksum(int checksum) {
        putU16(CHECKSUM, checksum);
    }
}
