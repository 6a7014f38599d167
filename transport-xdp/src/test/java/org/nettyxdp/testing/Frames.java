package org.nettyxdp.testing;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Builds test frames byte by byte, the one frame builder of the tests. Two families:
 * <ul>
 *   <li>Fixed addresses, checksums left zero (for programs that do not check them: the BPF tests):
 *       {@link #eth(int, byte[])} (02::01 from 02::02), {@link #ipv4(int, byte[])} (10.0.0.1 to
 *       10.0.0.2), {@link #ipv6(int, byte[])} (fd00::1 to fd00::2), {@link #udp(int, int, int)}.</li>
 *   <li>Given addresses (raw bytes: 4 or 16, MACs 6) with correct IPv4 header and UDP checksums unless
 *       a caller breaks them on purpose: {@link #eth(byte[], byte[], int, byte[])},
 *       {@link #ipv4(byte[], byte[], int, int, int, byte[], byte[])},
 *       {@link #ipv6(byte[], byte[], int, byte[])}, {@link #udpChecksum}, and the small ready-made
 *       frames {@link #udp4}, {@link #tcp4}, {@link #udp6}, {@link #ether} that end in 4 bytes for a
 *       marker.</li>
 * </ul>
 */
public final class Frames {
    public static final int ETH_IPV4 = 0x0800;
    public static final int ETH_IPV6 = 0x86dd;
    public static final int ETH_ARP = 0x0806;
    public static final int ETH_VLAN = 0x8100;
    public static final int ETH_QINQ = 0x88a8;
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMPV6 = 58;
    public static final int IPV6_HOPOPTS = 0;
    public static final int IPV6_ROUTING = 43;
    public static final int IPV6_FRAGMENT = 44;
    public static final int IPV6_DSTOPTS = 60;

    /** The source MAC of {@link #udp4}, {@link #tcp4}, {@link #udp6} and {@link #ether}. */
    private static final byte[] PEER_MAC = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

    private Frames() {
    }

    // ------------------------------------------------------------------ bytes

    public static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    public static byte[] slice(byte[] b, int from, int to) {
        byte[] s = new byte[to - from];
        System.arraycopy(b, from, s, 0, s.length);
        return s;
    }

    /** {@code length} bytes of {@code value}. */
    public static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    public static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    public static int get16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | b[off + 1] & 0xff;
    }

    /** The IPv4 address {@code a.b.c.d} as an int (network order: {@code a} in the top byte). */
    public static int ipv4Address(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    // ------------------------------------------------- fixed addresses, zero checksums

    public static byte[] eth(int etherType, byte[] payload) {
        byte[] h = {
            0x02, 0, 0, 0, 0, 0x01,       // dst MAC
            0x02, 0, 0, 0, 0, 0x02,       // src MAC
            (byte) (etherType >> 8), (byte) etherType};
        return cat(h, payload);
    }

    /** Ethernet with one VLAN tag {@code tpid} (0x8100 or 0x88a8), VLAN id 42. */
    public static byte[] ethVlan(int tpid, int etherType, byte[] payload) {
        byte[] h = {
            0x02, 0, 0, 0, 0, 0x01,
            0x02, 0, 0, 0, 0, 0x02,
            (byte) (tpid >> 8), (byte) tpid,
            0x00, 42,
            (byte) (etherType >> 8), (byte) etherType};
        return cat(h, payload);
    }

    /** IPv4 header with {@code ihl} words (options padded with NOP), given flags/offset word. */
    public static byte[] ipv4(int protocol, int ihl, int flagsAndOffset, byte[] payload) {
        int hlen = Math.max(ihl, 5) * 4;
        byte[] h = new byte[hlen];
        int total = hlen + payload.length;
        h[0] = (byte) (0x40 | (ihl & 0xf));
        h[2] = (byte) (total >> 8);
        h[3] = (byte) total;
        h[6] = (byte) (flagsAndOffset >> 8);
        h[7] = (byte) flagsAndOffset;
        h[8] = 64;
        h[9] = (byte) protocol;
        h[12] = 10; h[13] = 0; h[14] = 0; h[15] = 1;
        h[16] = 10; h[17] = 0; h[18] = 0; h[19] = 2;
        Arrays.fill(h, 20, hlen, (byte) 1); // NOP options
        return cat(h, payload);
    }

    public static byte[] ipv4(int protocol, byte[] payload) {
        return ipv4(protocol, 5, 0x4000 /* DF */, payload);
    }

    public static byte[] ipv6(int nextHeader, byte[] payload) {
        byte[] h = new byte[40];
        h[0] = 0x60;
        h[4] = (byte) (payload.length >> 8);
        h[5] = (byte) payload.length;
        h[6] = (byte) nextHeader;
        h[7] = 64;
        h[8] = (byte) 0xfd; h[23] = 1;
        h[24] = (byte) 0xfd; h[39] = 2;
        return cat(h, payload);
    }

    /** UDP header + {@code payloadLen} pattern bytes (byte i of the datagram is i); checksum zero. */
    public static byte[] udp(int srcPort, int dstPort, int payloadLen) {
        byte[] h = new byte[8 + payloadLen];
        h[0] = (byte) (srcPort >> 8);
        h[1] = (byte) srcPort;
        h[2] = (byte) (dstPort >> 8);
        h[3] = (byte) dstPort;
        h[4] = (byte) (h.length >> 8);
        h[5] = (byte) h.length;
        for (int i = 8; i < h.length; i++) {
            h[i] = (byte) i;
        }
        return h;
    }

    /** A 20-byte TCP SYN header, checksum zero. */
    public static byte[] tcp(int srcPort, int dstPort) {
        byte[] h = new byte[20];
        h[0] = (byte) (srcPort >> 8);
        h[1] = (byte) srcPort;
        h[2] = (byte) (dstPort >> 8);
        h[3] = (byte) dstPort;
        h[12] = 0x50;
        h[13] = 0x02; // SYN
        return h;
    }

    public static byte[] icmpEcho() {
        return new byte[] {8, 0, 0, 0, 0, 1, 0, 1};
    }

    public static byte[] arpRequest() {
        byte[] a = new byte[28];
        a[1] = 1;           // htype Ethernet
        a[2] = 0x08;        // ptype IPv4
        a[4] = 6;
        a[5] = 4;
        a[7] = 1;           // request
        return a;
    }

    // --------------------------------------------------- given addresses, real checksums

    public static byte[] eth(byte[] dst, byte[] src, int etherType, byte[] payload) {
        byte[] h = new byte[14];
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        put16(h, 12, etherType);
        return cat(h, payload);
    }

    /** Ethernet with one tag {@code tpid} (VLAN id 7) in front of {@code etherType}. */
    public static byte[] ethTagged(byte[] dst, byte[] src, int tpid, int etherType, byte[] payload) {
        byte[] h = new byte[18];
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        put16(h, 12, tpid);
        put16(h, 14, 7);
        put16(h, 16, etherType);
        return cat(h, payload);
    }

    /** One's-complement sum of {@code len} bytes from {@code off}, added to {@code sum} (not folded). */
    public static long sum(byte[] b, int off, int len, long sum) {
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += get16(b, off + i);
        }
        if (i < len) {
            sum += (b[off + i] & 0xff) << 8;
        }
        return sum;
    }

    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** UDP header + payload; length field = 8 + payload, checksum zero (see {@link #udpChecksum}). */
    public static byte[] udp(int srcPort, int dstPort, byte[] payload) {
        byte[] u = new byte[8 + payload.length];
        put16(u, 0, srcPort);
        put16(u, 2, dstPort);
        put16(u, 4, u.length);
        System.arraycopy(payload, 0, u, 8, payload.length);
        return u;
    }

    /** Pseudo-header sum for UDP of {@code udpLength} bytes between {@code src} and {@code dst}. */
    public static long pseudo(byte[] src, byte[] dst, int udpLength) {
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
    public static int udpChecksumValue(byte[] udp, byte[] src, byte[] dst) {
        int ulen = Math.min(get16(udp, 4), udp.length);
        byte[] copy = udp.clone();
        put16(copy, 6, 0);
        int c = ~fold(sum(copy, 0, ulen, pseudo(src, dst, get16(udp, 4)))) & 0xffff;
        return c == 0 ? 0xffff : c;
    }

    /** Writes the correct checksum into {@code udp}; returns it. */
    public static byte[] udpChecksum(byte[] udp, byte[] src, byte[] dst) {
        put16(udp, 6, udpChecksumValue(udp, src, dst));
        return udp;
    }

    /** The value a CHECKSUM_PARTIAL sender leaves: the folded pseudo-header sum (not complemented). */
    public static int partialValue(byte[] udp, byte[] src, byte[] dst) {
        return fold(pseudo(src, dst, get16(udp, 4)));
    }

    /**
     * IPv4 header (IHL from the options, which must be a multiple of 4 bytes) + payload, total length
     * and header checksum filled in.
     */
    public static byte[] ipv4(byte[] src, byte[] dst, int protocol, int id, int flagsAndOffset, byte[] options,
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
    public static void fixIpv4Checksum(byte[] frame, int off) {
        int hlen = (frame[off] & 0x0f) * 4;
        put16(frame, off + 10, 0);
        put16(frame, off + 10, ~fold(sum(frame, off, hlen, 0)) & 0xffff);
    }

    public static byte[] ipv6(byte[] src, byte[] dst, int nextHeader, byte[] payload) {
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
    public static byte[] ipv6Options(int nextHeader, byte[] payload) {
        byte[] h = {(byte) nextHeader, 0, 1, 4, 0, 0, 0, 0};
        return cat(h, payload);
    }

    /** An IPv6 fragment header. */
    public static byte[] ipv6Fragment(int nextHeader, int offset8, boolean more, int id, byte[] payload) {
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
    public static byte[] ipv6Routing0(int nextHeader, byte[] payload) {
        byte[] h = {(byte) nextHeader, 0, 0, 0, 0, 0, 0, 0};
        return cat(h, payload);
    }

    // ------------------------------------------ small ready-made frames, 4 marker bytes at the end

    /** UDP/IPv4 with 8 payload bytes from {@code 02:11:22:33:44:55}, tagged with {@code vlan} unless 0. */
    public static byte[] udp4(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] udp = udp(sport, dport, new byte[8]);
        byte[] ip = ipv4(src, dst, UDP, 1, 0x4000, new byte[0], udp);
        return l2(dstMac, ETH_IPV4, ip, vlan);
    }

    /** A TCP/IPv4 SYN with 4 trailing bytes, as {@link #udp4}. */
    public static byte[] tcp4(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] tcp = new byte[24];
        put16(tcp, 0, sport);
        put16(tcp, 2, dport);
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        byte[] ip = ipv4(src, dst, TCP, 1, 0x4000, new byte[0], tcp);
        return l2(dstMac, ETH_IPV4, ip, vlan);
    }

    /** UDP/IPv6, as {@link #udp4}. */
    public static byte[] udp6(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] udp = udp(sport, dport, new byte[8]);
        return l2(dstMac, ETH_IPV6, ipv6(src, dst, UDP, udp), vlan);
    }

    /** A 60-byte frame of {@code etherType} with a zero payload. */
    public static byte[] ether(byte[] dstMac, int etherType) {
        return eth(dstMac, PEER_MAC, etherType, new byte[46]);
    }

    private static byte[] l2(byte[] dstMac, int etherType, byte[] payload, int vlan) {
        if (vlan == 0) {
            return eth(dstMac, PEER_MAC, etherType, payload);
        }
        byte[] f = ethTagged(dstMac, PEER_MAC, ETH_VLAN, etherType, payload);
        put16(f, 14, vlan);
        return f;
    }
}
