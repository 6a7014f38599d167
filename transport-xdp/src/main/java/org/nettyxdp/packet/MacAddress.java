package org.nettyxdp.packet;

import java.util.HexFormat;

/**
 * A 48-bit Ethernet MAC address, held as the low 48 bits of a {@code long} (first octet in bits
 * 47..40). Immutable; compare with {@link #equals}, or compare {@link #toLong()} on hot paths.
 */
public final class MacAddress {

    /** {@code ff:ff:ff:ff:ff:ff}. */
    public static final MacAddress BROADCAST = new MacAddress(0xFFFF_FFFF_FFFFL);
    /** {@code 00:00:00:00:00:00}. */
    public static final MacAddress ZERO = new MacAddress(0L);

    private static final long MASK = 0xFFFF_FFFF_FFFFL;

    private final long bits;

    private MacAddress(long bits) {
        this.bits = bits;
    }

    /**
     * The address whose octets are the low 48 bits of {@code bits}, first octet most significant.
     *
     * @throws IllegalArgumentException if any of the high 16 bits is set
     */
    public static MacAddress of(long bits) {
        if ((bits & ~MASK) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC address: 0x" + Long.toHexString(bits));
        }
        return new MacAddress(bits);
    }

    /**
     * The address made of six octets.
     *
     * @throws IllegalArgumentException unless {@code octets} has exactly 6 elements
     */
    public static MacAddress of(byte[] octets) {
        if (octets.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 octets, got " + octets.length);
        }
        long bits = 0;
        for (byte octet : octets) {
            bits = bits << 8 | (octet & 0xFF);
        }
        return new MacAddress(bits);
    }

    /**
     * The address in the six octets of {@code b} from {@code off}.
     *
     * @throws IllegalArgumentException unless six octets are there
     */
    public static MacAddress of(byte[] b, int off) {
        if (off < 0 || b.length - off < 6) {
            throw new IllegalArgumentException("a MAC address needs 6 octets at offset " + off + " of " + b.length);
        }
        long bits = 0;
        for (int i = 0; i < 6; i++) {
            bits = bits << 8 | (b[off + i] & 0xFF);
        }
        return new MacAddress(bits);
    }

    /**
     * Parses the colon-separated form, e.g. {@code "02:00:5e:10:00:01"} (case-insensitive).
     *
     * @throws IllegalArgumentException if {@code text} is not six colon-separated hex octets
     */
    public static MacAddress parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long bits = 0;
        for (String part : parts) {
            if (part.length() != 2 || !HexFormat.isHexDigit(part.charAt(0)) || !HexFormat.isHexDigit(part.charAt(1))) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            bits = bits << 8 | HexFormat.fromHexDigits(part);
        }
        return new MacAddress(bits);
    }

    /** True for {@code 00:00:00:00:00:00}, which devices without a link-layer address report. */
    public boolean isZero() {
        return bits == 0;
    }

    /** The address as the low 48 bits of a {@code long}. */
    public long toLong() {
        return bits;
    }

    /** The six octets, first octet at index 0. */
    public byte[] toArray() {
        byte[] octets = new byte[6];
        for (int i = 0; i < 6; i++) {
            octets[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return octets;
    }

    /** True for group addresses (the I/G bit of the first octet), broadcast included. */
    public boolean isMulticast() {
        return (bits & 0x0100_0000_0000L) != 0;
    }

    /** True for {@code ff:ff:ff:ff:ff:ff}. */
    public boolean isBroadcast() {
        return bits == MASK;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MacAddress mac && mac.bits == bits;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bits);
    }

    /** The lower-case colon-separated form, e.g. {@code "02:00:5e:10:00:01"}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(17);
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                text.append(':');
            }
            hex.toHexDigits(text, (byte) (bits >>> (40 - 8 * i)));
        }
        return text.toString();
    }
}
