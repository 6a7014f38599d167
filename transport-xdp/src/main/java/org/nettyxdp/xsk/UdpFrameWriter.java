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
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
    /** A byte[] read as big-endian longs (the IPv6 addresses). */
    private static final VarHandle BE_LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    /** The DF flag in the IPv4 flags and fragment offset field. */
    private static final int DONT_FRAGMENT = 0x4000;

    private final int port;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    private long ifMac;
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

    /**
     * The IPv6 case of {@link #write}, as the IPv4 one: the headers composed in registers and stored as
     * big-endian words, the UDP checksum summed from the values and the payload.
     */
    private void writeIpv6(MemorySegment region, long l2, NextHops.Hop hop, int destinationPort, int payload,
                           int trafficClass, FrameChain chain) {
        byte[] source = boundIpv6 != null ? boundIpv6 : hop.source();
        byte[] destination = hop.destination();
        long s0 = (long) BE_LONGS.get(source, 0);
        long s1 = (long) BE_LONGS.get(source, 8);
        long d0 = (long) BE_LONGS.get(destination, 0);
        long d1 = (long) BE_LONGS.get(destination, 8);
        int udpLength = UdpHdr.LEN + payload;
        // version 6, traffic class, flow label 0 | payload length, next header, hop limit
        long first = 6L << 60 | (long) (trafficClass & 0xff) << 52 | (long) udpLength << 16 | IpProto.UDP << 8 | TTL;

        long l3 = l2 + EthHdr.LEN;
        long l4 = l3 + Ipv6Hdr.LEN;
        long payloadSum = chain == null ? Checksum.sum(region, l4 + UdpHdr.LEN, payload)
                : chain.sum(region, l4 + UdpHdr.LEN, payload);
        int udpChecksum = Checksum.finish(Checksum.fold(
                Checksum.pseudoHeaderSum(s0, s1, d0, d1, IpProto.UDP, udpLength)
                + port + destinationPort + udpLength + payloadSum));

        writeEthernet(region, l2, hop.mac(), EtherType.IPV6);
        region.set(U64, l3, first);
        region.set(U64, l3 + 8, s0);
        region.set(U64, l3 + 16, s1);
        region.set(U64, l3 + 24, d0);
        region.set(U64, l3 + 32, d1);
        writeUdp(region, l4, destinationPort, udpLength, udpChecksum);
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

        writeEthernet(region, l2, hop.mac(), EtherType.IPV4);
        long l3 = l2 + EthHdr.LEN;
        region.set(U64, l3, first);
        region.set(U64, l3 + 8, second | ipChecksum << 32);
        region.set(U32, l3 + 16, destination);
        writeUdp(region, l4, destinationPort, udpLength, udpChecksum);
    }

    /** The Ethernet header to {@code mac} from the interface, of {@code etherType}: three stores. */
    private void writeEthernet(MemorySegment region, long l2, long mac, int etherType) {
        region.set(U64, l2, (mac & MAC_MASK) << 16 | (ifMac & MAC_MASK) >>> 32);
        region.set(U32, l2 + 8, (int) ifMac);
        region.set(U16, l2 + 12, (short) etherType);
    }

    /** The UDP header from our port: one store; a computed checksum of 0 goes out as {@code 0xFFFF}. */
    private void writeUdp(MemorySegment region, long l4, int destinationPort, int udpLength, int checksum) {
        region.set(U64, l4, (long) port << 48 | (long) destinationPort << 32 | (long) udpLength << 16
                | (checksum == 0 ? 0xFFFF : checksum));
    }
}
