package org.nettyxdp.xsk;

import org.nettyxdp.packet.Checksum;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.EtherType;
import org.nettyxdp.packet.IpProto;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.Ipv6Hdr;
import org.nettyxdp.packet.UdpHdr;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Writes the Ethernet, IPv4 or IPv6 and UDP headers of one outgoing datagram in front of its payload,
 * with both checksums computed. Allocation-free; one instance per fast path, event-loop confined.
 */
final class UdpFrameWriter {
    /** Header bytes in front of an IPv4 datagram's payload. */
    static final int IPV4_HEADERS = EthHdr.LEN + Ipv4Hdr.LEN + UdpHdr.LEN;
    /** Header bytes in front of an IPv6 datagram's payload. */
    static final int IPV6_HEADERS = EthHdr.LEN + Ipv6Hdr.LEN + UdpHdr.LEN;
    private static final int TTL = 64;
    private static final ValueLayout.OfShort U16 = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;
    /** The DF flag in the IPv4 flags and fragment offset field. */
    private static final int DONT_FRAGMENT = 0x4000;

    private final int port;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    private long ifMac;
    private final Ipv6Hdr ip6 = new Ipv6Hdr();
    private final UdpHdr udp = new UdpHdr();
    private int ipId;

    /**
     * @param port      the source port
     * @param boundIpv4 the source IPv4 address as an int, or 0 to take the route's preferred source
     * @param boundIpv6 the source IPv6 address, or null to take the route's preferred source
     * @param ifMac     the interface's MAC address, the frames' source
     */
    UdpFrameWriter(int port, int boundIpv4, byte[] boundIpv6, long ifMac) {
        this.port = port;
        this.boundIpv4 = boundIpv4;
        this.boundIpv6 = boundIpv6;
        this.ifMac = ifMac;
    }

    /** Follows a change of the interface's MAC address. */
    void setInterfaceMac(long ifMac) {
        this.ifMac = ifMac;
    }

    /**
     * Writes the headers of a datagram of {@code payload} bytes to {@code hop} at {@code l2}; the
     * payload must already follow them.
     */
    void write(MemorySegment region, long l2, boolean v4, NextHops.Hop hop, int destinationPort, int payload,
               int trafficClass) {
        write(region, l2, v4, hop, destinationPort, payload, trafficClass, null);
    }

    /**
     * As {@link #write(MemorySegment, long, boolean, NextHops.Hop, int, int, int)} for a datagram sent
     * as the descriptor chain {@code chain} (null: one frame), whose first fragment starts at {@code l2}:
     * the UDP checksum covers the payload across every fragment.
     */
    void write(MemorySegment region, long l2, boolean v4, NextHops.Hop hop, int destinationPort, int payload,
               int trafficClass, FrameChain chain) {
        if (v4) {
            writeIpv4(region, l2, hop, destinationPort, payload, trafficClass, chain);
        } else {
            writeIpv6(region, l2, hop, destinationPort, payload, trafficClass, chain);
        }
    }

    /** The IPv6 case of {@link #write}, through the header views. */
    private void writeIpv6(MemorySegment region, long l2, NextHops.Hop hop, int destinationPort, int payload,
                           int trafficClass, FrameChain chain) {
        // Ethernet, written raw: a header view would read the old frame's EtherType to find a VLAN tag
        putMac(region, l2, hop.mac());
        putMac(region, l2 + 6, ifMac);
        region.set(U16, l2 + 12, (short) EtherType.IPV6);
        long l3 = l2 + EthHdr.LEN;
        ip6.wrap(region, l3);
        ip6.reset(TTL, IpProto.UDP);
        ip6.setTrafficClass(trafficClass);
        ip6.setPayloadLength(UdpHdr.LEN + payload);
        ip6.setSource(boundIpv6 != null ? boundIpv6 : hop.source());
        ip6.setDestination(hop.destination());
        udp.wrap(region, l3 + Ipv6Hdr.LEN);
        udp.setSourcePort(port);
        udp.setDestinationPort(destinationPort);
        udp.setLength(UdpHdr.LEN + payload);
        udp.setChecksum(0);
        if (chain == null) {
            udp.setChecksum(Checksum.udp(ip6, udp));
        } else {
            int length = UdpHdr.LEN + payload;
            int pseudo = Checksum.pseudoHeaderSum(ip6, IpProto.UDP, length);
            int checksum = Checksum.finish(Checksum.add(pseudo, chain.sum(region, udp.offset(), length)));
            udp.setChecksum(checksum == 0 ? 0xFFFF : checksum);
        }
    }

    /**
     * The IPv4 case of {@link #write}: every header field is known here, so the headers are composed in
     * registers and stored as seven big-endian words, and both checksums are summed from the values
     * (the UDP one adds the payload's sum) instead of reading the headers back.
     */
    private void writeIpv4(MemorySegment region, long l2, NextHops.Hop hop, int destinationPort, int payload,
                           int trafficClass, FrameChain chain) {
        int source = boundIpv4 != 0 ? boundIpv4 : hop.source4();
        int destination = hop.destination4();
        int udpLength = UdpHdr.LEN + payload;
        // version 4, IHL 5, TOS, total length | identification, DF | TTL, protocol, (checksum)
        int word0 = 0x4500_0000 | (trafficClass & 0xff) << 16 | (Ipv4Hdr.LEN + udpLength);
        int word1 = (ipId++ & 0xffff) << 16 | DONT_FRAGMENT;
        int word2 = TTL << 24 | IpProto.UDP << 16;
        long first = (long) word0 << 32 | word1 & 0xffff_ffffL;
        long second = (long) word2 << 32 | source & 0xffff_ffffL;
        long ipChecksum = Checksum.finish(Checksum.ipv4HeaderSum(first, second, destination));

        long l4 = l2 + EthHdr.LEN + Ipv4Hdr.LEN;
        long payloadSum = chain == null ? Checksum.sum(region, l4 + UdpHdr.LEN, payload)
                : chain.sum(region, l4 + UdpHdr.LEN, payload);
        // pseudo-header, then the UDP header's ports and length
        int udpChecksum = Checksum.finish(Checksum.fold(
                Checksum.pseudoHeaderSum(source, destination, IpProto.UDP, udpLength)
                + port + destinationPort + udpLength + payloadSum));

        long mac = hop.mac() & MAC_MASK;
        region.set(U64, l2, mac << 16 | (ifMac & MAC_MASK) >>> 32);
        region.set(U32, l2 + 8, (int) ifMac);
        region.set(U16, l2 + 12, (short) EtherType.IPV4);
        long l3 = l2 + EthHdr.LEN;
        region.set(U64, l3, first);
        region.set(U64, l3 + 8, second | ipChecksum << 32);
        region.set(U32, l3 + 16, destination);
        region.set(U64, l4, (long) port << 48 | (long) destinationPort << 32 | (long) udpLength << 16
                | (udpChecksum == 0 ? 0xFFFF : udpChecksum));
    }

    private static void putMac(MemorySegment region, long offset, long mac) {
        region.set(U16, offset, (short) (mac >>> 32));
        region.set(U32, offset + 2, (int) mac);
    }
}
