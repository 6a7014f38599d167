package org.nettyxdp.netlink;

import java.util.HexFormat;

/**
 * A 48-bit Ethernet (EUI-48) address held in the low 48 bits of a {@code long}, first octet most
 * significant, so it can be written into a frame as one big-endian 6-byte value. Immutable, with
 * value equality; {@link #toString()} gives {@code "02:00:5e:10:00:01"} like {@code ip link}.
 *
 * @param bits the address, octet 0 in bits 47..40
 */
public record MacAddress(long bits) {
    /** {@code 00:00:00:00:00:00}. */
    public static final MacAddress ZERO = new MacAddress(0);
    /** {@code ff:ff:ff:ff:ff:ff}. */
    public static final MacAddress BROADCAST = new MacAddress(0xffff_ffff_ffffL);

    /** Checks that only the low 48 bits are set. */
    public MacAddress {
        if ((bits >>> 48) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC address: 0x" + Long.toHexString(bits));
        }
    }

    /** The address in {@code b[off, off + 6)}. */
    public static MacAddress of(byte[] b, int off) {
        if (off < 0 || b.length - off < 6) {
            throw new IllegalArgumentException("need 6 bytes at offset " + off + " of " + b.length);
        }
        long v = 0;
        for (int i = 0; i < 6; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return new MacAddress(v);
    }

    /** The address in a 6-byte array. */
    public static MacAddress of(byte[] b) {
        if (b.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + b.length);
        }
        return of(b, 0);
    }

    /** Parses {@code "aa:bb:cc:dd:ee:ff"} (or with {@code '-'} separators), case-insensitive. */
    public static MacAddress parse(String s) {
        if (s.length() != 17) {
            throw new IllegalArgumentException("not a MAC address: " + s);
        }
        long v = 0;
        for (int i = 0; i < 6; i++) {
            if (i > 0 && s.charAt(3 * i - 1) != ':' && s.charAt(3 * i - 1) != '-') {
                throw new IllegalArgumentException("not a MAC address: " + s);
            }
            int hi = Character.digit(s.charAt(3 * i), 16);
            int lo = Character.digit(s.charAt(3 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not a MAC address: " + s);
            }
            v = (v << 8) | (hi << 4) | lo;
        }
        return new MacAddress(v);
    }

    /** The six octets, in wire order. */
    public byte[] toBytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return b;
    }

    /** True for {@code 00:00:00:00:00:00} (e.g. loopback, or a neighbour entry without an address). */
    public boolean isZero() {
        return bits == 0;
    }

    /** True if the group bit (least significant bit of the first octet) is set; includes broadcast. */
    public boolean isMulticast() {
        return (bits & (1L << 40)) != 0;
    }

    @Override
    public String toString() {
        return HexFormat.ofDelimiter(":").formatHex(toBytes());
    }
}
