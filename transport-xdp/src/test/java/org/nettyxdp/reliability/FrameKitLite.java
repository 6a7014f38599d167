package org.nettyxdp.reliability;

/** Small frames for {@link RawChannelTest}, each ending in 4 bytes for a marker. */
final class FrameKitLite {
    private static final byte[] PEER_MAC = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

    private FrameKitLite() {
    }

    static byte[] udp4(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] udp = FrameKit.udp(sport, dport, new byte[8]);
        byte[] ip = FrameKit.ipv4(src, dst, FrameKit.UDP, 1, 0x4000, new byte[0], udp);
        return l2(dstMac, FrameKit.ETH_IPV4, ip, vlan);
    }

    static byte[] tcp4(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] tcp = new byte[24];
        FrameKit.put16(tcp, 0, sport);
        FrameKit.put16(tcp, 2, dport);
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        byte[] ip = FrameKit.ipv4(src, dst, FrameKit.TCP, 1, 0x4000, new byte[0], tcp);
        return l2(dstMac, FrameKit.ETH_IPV4, ip, vlan);
    }

    static byte[] udp6(byte[] dstMac, byte[] src, byte[] dst, int sport, int dport, int vlan) {
        byte[] udp = FrameKit.udp(sport, dport, new byte[8]);
        return l2(dstMac, FrameKit.ETH_IPV6, FrameKit.ipv6(src, dst, FrameKit.UDP, udp), vlan);
    }

    static byte[] ether(byte[] dstMac, int etherType) {
        return FrameKit.eth(dstMac, PEER_MAC, etherType, new byte[46]);
    }

    private static byte[] l2(byte[] dstMac, int etherType, byte[] payload, int vlan) {
        if (vlan == 0) {
            return FrameKit.eth(dstMac, PEER_MAC, etherType, payload);
        }
        byte[] f = FrameKit.ethTagged(dstMac, PEER_MAC, FrameKit.ETH_VLAN, etherType, payload);
        FrameKit.put16(f, 14, vlan);
        return f;
    }
}
