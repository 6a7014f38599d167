package org.nettyxdp.reliability;

import java.io.ByteArrayOutputStream;

/**
 * Builds raw Ethernet frames for the hostile-traffic tests, with correct IPv4 header and UDP
 * checksums unless a caller breaks them on purpose. Addresses are raw bytes (4 or 16), MACs 6 bytes.
 */
final class FrameKit {
    static final int ETH_IPV4 = 0x0800;
    static final int ETH_IPV6 = 0x86dd;
    static final int ETH_VLAN = 0x8100;
    static final int ETH_QINQ = 0x88a8;
    static final int UDP = 17;
    static final int TCP = 6;
    static final int ICMP = 1;
    static final int IPV6_HOPOPTS = 0;
    static final int IPV6_ROUTING = 43;
    static final int IPV6_FRAGMENT = 44;
    static final int IPV6_DSTOPTS = 60;

    private FrameKit() {
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static int get16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | b[off + 1] & 0xff;
    }

    static byte[] eth(byte[] dst, byte[] src, int etherType, byte[] payload) {
        byte[] h = new byte[14];
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        put16(h, 12, etherType);
        return cat(h, payload);
    }

    /** Ethernet with one tag {@code tpid} (VLAN id 7) in front of {@code etherType}. */
    static byte[] ethTagged(byte[] dst, byte[] src, int tpid, int etherType, byte[] payload) {
        byte[] h = new byte[18];
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        put16(h, 12, tpid);
        put16(h, 14, 7);
        put16(h, 16, etherType);
        return cat(h, payload);
    }

    /** One's-complement sum of {@code len} bytes from {@code off}, added to {@code sum} (not folded). */
    static long sum(byte[] b, int off, int len, long sum) {
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += get16(b, off + i);
        }
        if (i < len) {
            sum += (b[off + i] & 0xff) << 8;
        }
        return sum;
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** UDP header + payload; length field = 8 + payload, checksum zero (see {@link #udpChecksum}). */
    static byte[] udp(int srcPort, int dstPort, byte[] payload) {
        byte[] u = new byte[8 + payload.length];
        put16(u, 0, srcPort);
        put16(u, 2, dstPort);
        put16(u, 4, u.length);
        System.arraycopy(payload, 0, u, 8, payload.length);
        return u;
    }

    /** Pseudo-header sum for UDP of {@code udpLength} bytes between {@code src} and {@code dst}. */
    static long pseudo(byte[] src, byte[] dst, int udpLength) {
        long s = sum(src, 0, src.length, 0);
        s = sum(dst, 0, dst.length, s);
        s += UDP;
        s += udpLength & 0xffff;
        if (src.length == 16) {
            s += udpLength >>> 16;
        }
        return s;
    }

    /** The correct checksum of {@code udp}, covering the bytes its length field claims (clamped to the array). */
    static int udpChecksumValue(byte[] udp, byte[] src, byte[] dst) {
        int ulen = Math.min(get16(udp, 4), udp.length);
        byte[] copy = udp.clone();
        put16(copy, 6, 0);
        int c = ~fold(sum(copy, 0, ulen, pseudo(src, dst, get16(udp, 4)))) & 0xffff;
        return c == 0 ? 0xffff : c;
    }

    /** Writes the correct checksum into {@code udp}; returns it. */
    static byte[] udpChecksum(byte[] udp, byte[] src, byte[] dst) {
        put16(udp, 6, udpChecksumValue(udp, src, dst));
        return udp;
    }

    /** The value a CHECKSUM_PARTIAL sender leaves: the folded pseudo-header sum (not complemented). */
    static int partialValue(byte[] udp, byte[] src, byte[] dst) {
        return fold(pseudo(src, dst, get16(udp, 4)));
    }

    /**
     * IPv4 header (IHL from the options, which must be a multiple of 4 bytes) + payload, total length
     * and header checksum filled in.
     */
    static byte[] ipv4(byte[] src, byte[] dst, int protocol, int id, int flagsAndOffset, byte[] options,
                       byte[] payload) {
        if (options.length % 4 != 0 || options.length > 40) {
            throw new IllegalArgumentException("options: " + options.length);
        }
        int hlen = 20 + options.length;
        byte[] h = new byte[hlen];
        h[0] = (byte) (0x40 | hlen / 4);
        put16(h, 2, hlen + payload.length);
        put16(h, 4, id);
        put16(h, 6, flagsAndOffset);
        h[8] = 64;
        h[9] = (byte) protocol;
        System.arraycopy(src, 0, h, 12, 4);
        System.arraycopy(dst, 0, h, 16, 4);
        System.arraycopy(options, 0, h, 20, options.length);
        put16(h, 10, ~fold(sum(h, 0, hlen, 0)) & 0xffff);
        return cat(h, payload);
    }

    /** Recomputes the IPv4 header checksum of the header starting at {@code off}. */
    static void fixIpv4Checksum(byte[] frame, int off) {
        int hlen = (frame[off] & 0x0f) * 4;
        put16(frame, off + 10, 0);
        put16(frame, off + 10, ~fold(sum(frame, off, hlen, 0)) & 0xffff);
    }

    static byte[] ipv6(byte[] src, byte[] dst, int nextHeader, byte[] payload) {
        byte[] h = new byte[40];
        h[0] = 0x60;
        put16(h, 4, payload.length);
        h[6] = (byte) nextHeader;
        h[7] = 64;
        System.arraycopy(src, 0, h, 8, 16);
        System.arraycopy(dst, 0, h, 24, 16);
        return cat(h, payload);
    }

    /** An 8-byte IPv6 options header (hop-by-hop or destination options) with one PadN option. */
    static byte[] ipv6Options(int nextHeader, byte[] payload) {
        byte[] h = {(byte) nextHeader, 0, 1, 4, 0, 0, 0, 0};
        return cat(h, payload);
    }

    /** An IPv6 fragment header. */
    static byte[] ipv6Fragment(int nextHeader, int offset8, boolean more, int id, byte[] payload) {
        byte[] h = new byte[8];
        h[0] = (byte) nextHeader;
        put16(h, 2, offset8 << 3 | (more ? 1 : 0));
        h[4] = (byte) (id >>> 24);
        h[5] = (byte) (id >>> 16);
        h[6] = (byte) (id >>> 8);
        h[7] = (byte) id;
        return cat(h, payload);
    }

    /** A type-0 routing header (deprecated; the kernel refuses it) with no addresses left. */
    static byte[] ipv6Routing0(int nextHeader, byte[] payload) {
        byte[] h = {(byte) nextHeader, 0, 0, 0, 0, 0, 0, 0};
        return cat(h, payload);
    }

    static byte[] slice(byte[] b, int from, int to) {
        byte[] s = new byte[to - from];
        System.arraycopy(b, from, s, 0, s.length);
        return s;
    }
}
