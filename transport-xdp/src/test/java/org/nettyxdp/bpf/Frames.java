package org.nettyxdp.bpf;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/** Builds test frames byte by byte (checksums are left zero: the XDP program does not check them). */
final class Frames {
    static final int ETH_P_IP = 0x0800;
    static final int ETH_P_IPV6 = 0x86dd;
    static final int ETH_P_ARP = 0x0806;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int PROTO_HOPOPTS = 0;
    static final int PROTO_ICMPV6 = 58;

    private Frames() {
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] eth(int etherType, byte[] payload) {
        byte[] h = {
            0x02, 0, 0, 0, 0, 0x01,       // dst MAC
            0x02, 0, 0, 0, 0, 0x02,       // src MAC
            (byte) (etherType >> 8), (byte) etherType};
        return cat(h, payload);
    }

    /** Ethernet with one VLAN tag {@code tpid} (0x8100 or 0x88a8), VLAN id 42. */
    static byte[] ethVlan(int tpid, int etherType, byte[] payload) {
        byte[] h = {
            0x02, 0, 0, 0, 0, 0x01,
            0x02, 0, 0, 0, 0, 0x02,
            (byte) (tpid >> 8), (byte) tpid,
            0x00, 42,
            (byte) (etherType >> 8), (byte) etherType};
        return cat(h, payload);
    }

    /** IPv4 header with {@code ihl} words (options padded with NOP), given flags/offset word. */
    static byte[] ipv4(int protocol, int ihl, int flagsAndOffset, byte[] payload) {
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

    static byte[] ipv4(int protocol, byte[] payload) {
        return ipv4(protocol, 5, 0x4000 /* DF */, payload);
    }

    static byte[] ipv6(int nextHeader, byte[] payload) {
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

    /** An IPv6 hop-by-hop options extension header (8 bytes, PadN) followed by {@code payload}. */
    static byte[] hopByHop(int nextHeader, byte[] payload) {
        byte[] h = {(byte) nextHeader, 0, 1, 4, 0, 0, 0, 0};
        return cat(h, payload);
    }

    static byte[] udp(int srcPort, int dstPort, int payloadLen) {
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

    static byte[] tcp(int srcPort, int dstPort) {
        byte[] h = new byte[20];
        h[0] = (byte) (srcPort >> 8);
        h[1] = (byte) srcPort;
        h[2] = (byte) (dstPort >> 8);
        h[3] = (byte) dstPort;
        h[12] = 0x50;
        h[13] = 0x02; // SYN
        return h;
    }

    static byte[] icmpEcho() {
        return new byte[] {8, 0, 0, 0, 0, 1, 0, 1};
    }

    static byte[] arpRequest() {
        byte[] a = new byte[28];
        a[1] = 1;           // htype Ethernet
        a[2] = 0x08;        // ptype IPv4
        a[4] = 6;
        a[5] = 4;
        a[7] = 1;           // request
        return a;
    }
}
