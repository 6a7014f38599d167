package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.testing.Frames;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The headers {@link UdpFrameWriter} puts in front of a payload are byte for byte those of the
 * reference frames of {@link Frames} (checksums computed the slow, obvious way), for IPv4 and IPv6,
 * payloads of every length class, any traffic class, in one frame and across a descriptor chain.
 */
class UdpFrameWriterTest {
    private static final long HOST_MAC = 0x02_11_22_33_44_55L;
    private static final long PEER_MAC = 0x0a_66_77_88_99_aaL;
    private static final byte[] HOST4 = {10, 9, 0, 1};
    private static final byte[] PEER4 = {10, 9, (byte) 200, (byte) 254};
    private static final byte[] HOST6 = v6(0x01);
    private static final byte[] PEER6 = v6(0xfe);
    private static final int FRAME = 4096;

    @Test
    void ipv4HeadersEqualTheReferenceFrame() {
        check(true, false);
    }

    @Test
    void ipv6HeadersEqualTheReferenceFrame() {
        check(false, false);
    }

    @Test
    void ipv4ChecksumCoversEveryFragmentOfAChain() {
        check(true, true);
    }

    @Test
    void ipv6ChecksumCoversEveryFragmentOfAChain() {
        check(false, true);
    }

    private static void check(boolean v4, boolean chained) {
        Random random = new Random(v4 ? 4 : 6);
        UdpFrameWriter writer = new UdpFrameWriter(7777, 0, null, HOST_MAC);
        NextHops.Hop hop = v4
                ? new NextHops.Hop(PEER_MAC, PEER4, HOST4, XdpFastPath.toInt(PEER4), XdpFastPath.toInt(HOST4))
                : new NextHops.Hop(PEER_MAC, PEER6, HOST6, 0, 0);
        int headers = v4 ? UdpFrameWriter.IPV4_HEADERS : UdpFrameWriter.IPV6_HEADERS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(4L * FRAME, 4096);
            int writes = 0;
            for (int round = 0; round < 500; round++) {
                int payload = chained ? 1 + random.nextInt(3 * FRAME - headers - 3 * XdpPacket.XDP_PACKET_HEADROOM)
                        : round < 10 ? round : random.nextInt(FRAME - XdpPacket.XDP_PACKET_HEADROOM - headers - 64);
                int trafficClass = random.nextInt(256);
                int port = 1 + random.nextInt(65535);
                byte[] data = new byte[payload];
                random.nextBytes(data);
                // in one frame at an odd or even offset, or over up to three fragments split anywhere
                long l2 = XdpPacket.XDP_PACKET_HEADROOM + random.nextInt(64);
                FrameChain chain = null;
                if (chained) {
                    chain = new FrameChain(FRAME - XdpPacket.XDP_PACKET_HEADROOM);
                    int left = payload;
                    int at = 0;
                    for (int f = 0; f < 3 && left > 0; f++) {
                        long start = (long) f * FRAME + XdpPacket.XDP_PACKET_HEADROOM;
                        int room = FRAME - XdpPacket.XDP_PACKET_HEADROOM - (f == 0 ? headers : 0);
                        int n = f == 2 ? Math.min(left, room) : Math.min(left, 1 + random.nextInt(room));
                        long dst = f == 0 ? start + headers : start;
                        MemorySegment.copy(data, at, region, ValueLayout.JAVA_BYTE, dst, n);
                        chain.add(start, (f == 0 ? headers : 0) + n);
                        at += n;
                        left -= n;
                    }
                    if (left > 0) {
                        continue;
                    }
                    l2 = XdpPacket.XDP_PACKET_HEADROOM;
                } else {
                    MemorySegment.copy(data, 0, region, ValueLayout.JAVA_BYTE, l2 + headers, payload);
                }
                writer.write(region, l2, v4, hop, port, payload, trafficClass, chain);

                byte[] expected = reference(v4, writes++, trafficClass, port, data);
                byte[] actual = new byte[expected.length];
                if (chain == null) {
                    MemorySegment.copy(region, ValueLayout.JAVA_BYTE, l2, actual, 0, actual.length);
                } else {
                    int at = 0;
                    for (int f = 0; f < chain.count(); f++) {
                        MemorySegment.copy(region, ValueLayout.JAVA_BYTE, chain.addr(f), actual, at, chain.len(f));
                        at += chain.len(f);
                    }
                }
                assertArrayEquals(expected, actual, (v4 ? "IPv4" : "IPv6") + " round " + round + ": payload "
                        + payload + ", traffic class " + trafficClass + (chained ? ", chained" : ""));
            }
        }
    }

    /** The frame the writer must produce, built field by field (its IPv4 identification counts writes from 0). */
    private static byte[] reference(boolean v4, int writes, int trafficClass, int port, byte[] data) {
        if (v4) {
            byte[] udp = Frames.udpChecksum(Frames.udp(7777, port, data), HOST4, PEER4);
            byte[] ip = Frames.ipv4(HOST4, PEER4, 17, writes & 0xffff, 0x4000, new byte[0], udp);
            ip[1] = (byte) trafficClass;
            Frames.fixIpv4Checksum(ip, 0);
            return Frames.eth(mac(PEER_MAC), mac(HOST_MAC), 0x0800, ip);
        }
        byte[] udp = Frames.udpChecksum(Frames.udp(7777, port, data), HOST6, PEER6);
        byte[] ip = Frames.ipv6(HOST6, PEER6, 17, udp);
        ip[0] = (byte) (0x60 | trafficClass >>> 4);
        ip[1] = (byte) ((trafficClass & 0x0f) << 4);
        return Frames.eth(mac(PEER_MAC), mac(HOST_MAC), 0x86dd, ip);
    }

    private static byte[] mac(long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (40 - 8 * i));
        }
        return b;
    }

    private static byte[] v6(int last) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfd;
        a[1] = 0x42;
        a[15] = (byte) last;
        return a;
    }
}
