package org.nettyxdp.xsk;

import io.netty.util.collection.LongObjectHashMap;
import org.nettyxdp.packet.Checksum;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.EtherType;
import org.nettyxdp.packet.IpProto;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.Ipv6Hdr;
import org.nettyxdp.packet.PacketException;
import org.nettyxdp.packet.UdpHdr;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Decides whether a received frame is a valid UDP datagram for one channel: Ethernet (one VLAN tag),
 * IPv4 or IPv6, UDP; lengths always checked, checksums by policy, family, addresses and port against
 * the channel's, and the source against the addresses the kernel refuses ({@link MartianFilter}). Allocation-free for IPv4 senders seen before (a small cache); one instance per fast path,
 * event-loop confined.
 */
final class UdpFrameParser {
    private static final int MAX_CACHED_SENDERS = 65536;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Offsets in the Ethernet header of the EtherType, and of the inner one behind a VLAN tag. */
    private static final int ETHER_TYPE = 12;
    private static final int INNER_ETHER_TYPE = 16;
    /** Offset of the source address in the IPv6 header. */
    private static final int IPV6_SOURCE = 8;
    /** The MF flag and the fragment offset in the low 16 bits of an IPv4 header's first 8 bytes. */
    private static final long FRAGMENT_BITS = 0x3fff;

    private final int port;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    private final boolean accept4;
    private final boolean accept6;
    private final boolean loopback;
    private final Supplier<LocalAddresses> locals;
    private long ifMacBits;
    private boolean checkMac;
    private final int ifindex;
    private final Ipv6Hdr ip6 = new Ipv6Hdr();
    private final UdpHdr udp = new UdpHdr();
    private final byte[] addr16 = new byte[16];
    private final LongObjectHashMap<InetSocketAddress> senders4 = new LongObjectHashMap<>();
    private final Ipv6SenderCache senders6 = new Ipv6SenderCache();
    private final long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    /** The multi-buffer packet being validated, or null for a single frame. */
    private FrameChain chain;
    private InetSocketAddress connectedPeer;
    private InetSocketAddress sender;
    /** The accepted datagram's UDP header: its region offset, and its length field. */
    private long udpAt;
    private int udpLength;

    /**
     * @param boundIpv4 the bound IPv4 address as an int, or 0
     * @param boundIpv6 the bound IPv6 address, or null (both unset: wildcard)
     * @param accept4   whether IPv4 datagrams are the channel's (an IPv4 or dual-stack IPv6 channel)
     * @param accept6   whether IPv6 datagrams are
     * @param ifMacBits the interface's MAC; frames must be addressed to it unless {@code checkMac} is off
     * @param loopback  the interface is {@code lo}: loopback and own sources are normal there
     * @param locals    the host's addresses now (read per frame: a volatile snapshot)
     */
    UdpFrameParser(int port, int boundIpv4, byte[] boundIpv6, boolean accept4, boolean accept6, long ifMacBits,
                   boolean checkMac, int ifindex, boolean loopback, Supplier<LocalAddresses> locals) {
        this.port = port;
        this.boundIpv4 = boundIpv4;
        this.boundIpv6 = boundIpv6;
        this.accept4 = accept4;
        this.accept6 = accept6;
        this.loopback = loopback;
        this.locals = locals;
        this.ifMacBits = ifMacBits;
        this.checkMac = checkMac;
        this.ifindex = ifindex;
    }

    /** Follows a change of the interface's MAC address. */
    void setInterfaceMac(long ifMacBits, boolean checkMac) {
        this.ifMacBits = ifMacBits;
        this.checkMac = checkMac;
    }

    /** Accept datagrams from {@code peer} only (null: from anyone). */
    void connect(InetSocketAddress peer) {
        this.connectedPeer = peer;
    }

    /** Sender of the datagram {@link #validate} accepted last. */
    InetSocketAddress sender() {
        return sender;
    }

    /** Where the accepted datagram's payload starts, as a head index of its frame. */
    int payloadHead(XdpPacket p) {
        return (int) (udpAt + UdpHdr.LEN - p.frameAddr() - XdpPacket.XDP_PACKET_HEADROOM);
    }

    /** Length of the accepted datagram's payload. */
    int payloadLength() {
        return udpLength - UdpHdr.LEN;
    }

    /** Null if {@code p} is a valid datagram for the channel, else why it is dropped. */
    DropReason validate(XdpPacket p, RxChecksumPolicy policy) {
        if (p.isContinued()) {
            return DropReason.MULTI_BUFFER;
        }
        return validate(p, null, policy);
    }

    /**
     * Null if the multi-buffer packet {@code chain}, whose first fragment {@code p} is, is a valid
     * datagram for the channel, else why it is dropped (null {@code chain}: {@code p} alone). The
     * headers must lie whole in the first fragment, as the kernel's own multi-buffer receive and the
     * verifier's linear-data rule require; lengths count every fragment and the UDP checksum covers
     * them all.
     */
    DropReason validate(XdpPacket p, FrameChain chain, RxChecksumPolicy policy) {
        this.chain = chain;
        try {
            return check(p, policy);
        } catch (PacketException e) {
            return DropReason.TRUNCATED;
        } finally {
            this.chain = null;
        }
    }

    private DropReason check(XdpPacket p, RxChecksumPolicy policy) {
        // headers are read from the first fragment (linear); lengths are checked against the whole frame
        int linear = p.len();
        long whole = chain == null ? linear : chain.total();
        int len = (int) Math.min(whole, Integer.MAX_VALUE);
        if (linear < EthHdr.LEN) {
            return DropReason.TRUNCATED;
        }
        MemorySegment m = p.umem();
        long data = p.addr();
        int type = m.get(U16, data + ETHER_TYPE) & 0xffff;
        int l3 = EthHdr.LEN;
        if (type == EtherType.VLAN || type == EtherType.QINQ) {
            if (linear < EthHdr.TAGGED_LEN) {
                return DropReason.TRUNCATED;
            }
            type = m.get(U16, data + INNER_ETHER_TYPE) & 0xffff;
            l3 = EthHdr.TAGGED_LEN;
        }
        if (checkMac && m.get(U64, data) >>> 16 != ifMacBits) {
            // the program passes group addresses; a unicast frame for another host (promiscuous
            // mode, a bridge) is not ours, as the kernel would also decide
            return DropReason.NOT_FOR_US;
        }
        if (type == EtherType.IPV4) {
            DropReason drop = checkIpv4(m, data + l3, linear - l3, len - l3, policy);
            if (drop != null) {
                return drop;
            }
        } else if (type == EtherType.IPV6) {
            if (linear < l3 + Ipv6Hdr.LEN + UdpHdr.LEN) {
                return DropReason.TRUNCATED;
            }
            p.read(l3, ip6);
            if (ip6.nextHeader() != IpProto.UDP) {
                return DropReason.NOT_FOR_US;
            }
            ip6.getSource(addr16);
            if (MartianFilter.isMartian6(addr16, loopback, locals.get())) {
                return DropReason.MARTIAN_SOURCE;
            }
            int plen = ip6.payloadLength();
            if (plen < UdpHdr.LEN || l3 + Ipv6Hdr.LEN + plen > len) {
                return DropReason.BAD_LENGTH;
            }
            p.read(l3 + Ipv6Hdr.LEN, udp);
            int ulen = udp.length();
            if (ulen < UdpHdr.LEN || ulen > plen) {
                return DropReason.BAD_LENGTH;
            }
            if (udp.destinationPort() != port || !accept6 || boundIpv4 != 0) {
                return DropReason.NOT_FOR_US;
            }
            if (boundIpv6 != null) {
                ip6.getDestination(addr16);
                if (!Arrays.equals(addr16, boundIpv6)) {
                    return DropReason.NOT_FOR_US;
                }
            }
            udpAt = udp.offset();
            udpLength = ulen;
            if (policy != RxChecksumPolicy.IGNORE && !accepted(policy, ipv6Status())) {
                return DropReason.BAD_UDP_CHECKSUM;
            }
            sender = sender6(m.get(U64, data + l3 + IPV6_SOURCE), m.get(U64, data + l3 + IPV6_SOURCE + 8),
                    udp.sourcePort());
        } else {
            return DropReason.NOT_FOR_US;
        }
        if (connectedPeer != null && !connectedPeer.equals(sender)) {
            return DropReason.NOT_CONNECTED_PEER;
        }
        return null;
    }

    /**
     * The IPv4 part of {@link #check}, for the header at region offset {@code ip} with {@code linear}
     * bytes from there in the first fragment and {@code len} in the whole frame. The header's first
     * 20 bytes are three loads; fields are taken from them and its checksum summed from them.
     */
    private DropReason checkIpv4(MemorySegment m, long ip, int linear, int len, RxChecksumPolicy policy) {
        if (linear < Ipv4Hdr.LEN) {
            return DropReason.TRUNCATED;
        }
        // version, IHL, TOS, total length, identification, flags and fragment offset
        long w0 = m.get(U64, ip);
        // TTL, protocol, header checksum, source
        long w1 = m.get(U64, ip + 8);
        int destination = m.get(U32, ip + 16);
        int ihl = (int) (w0 >>> 56 & 0x0f) * 4;
        int total = (int) (w0 >>> 32 & 0xffff);
        if (w0 >>> 60 != 4 || ihl < Ipv4Hdr.LEN) {
            return DropReason.BAD_LENGTH;
        }
        if (linear < ihl + UdpHdr.LEN) {
            return DropReason.TRUNCATED;
        }
        if (total < ihl + UdpHdr.LEN || total > len) {
            return DropReason.BAD_LENGTH;
        }
        if ((w1 >>> 48 & 0xff) != IpProto.UDP || (w0 & FRAGMENT_BITS) != 0) {
            return DropReason.NOT_FOR_US;
        }
        boolean headerValid = ihl == Ipv4Hdr.LEN
                ? Checksum.ipv4HeaderSum(w0, w1, destination) == 0xFFFF
                : Checksum.isValid(m, ip, ihl);
        if (!headerValid) {
            return DropReason.BAD_IP_CHECKSUM;
        }
        int source = (int) w1;
        if (MartianFilter.isMartian4(source, loopback, locals.get())) {
            return DropReason.MARTIAN_SOURCE;
        }
        // source port, destination port, length, checksum
        long u = m.get(U64, ip + ihl);
        int ulen = (int) (u >>> 16 & 0xffff);
        if (ulen < UdpHdr.LEN || ulen > total - ihl) {
            return DropReason.BAD_LENGTH;
        }
        if ((int) (u >>> 32 & 0xffff) != port || !accept4 || boundIpv6 != null
                || boundIpv4 != 0 && destination != boundIpv4) {
            return DropReason.NOT_FOR_US;
        }
        udpAt = ip + ihl;
        udpLength = ulen;
        if (policy != RxChecksumPolicy.IGNORE
                && !accepted(policy, ipv4Status(m, source, destination, (int) u & 0xffff))) {
            return DropReason.BAD_UDP_CHECKSUM;
        }
        sender = sender4(source, (int) (u >>> 48));
        return null;
    }

    /** {@link Checksum#verifyUdp} of the IPv4 datagram at {@link #udpAt}, its fragments included. */
    private Checksum.UdpStatus ipv4Status(MemorySegment m, int source, int destination, int checksum) {
        if (checksum == 0) {
            return Checksum.UdpStatus.ABSENT;
        }
        return Checksum.udpStatus(Checksum.pseudoHeaderSum(source, destination, IpProto.UDP, udpLength), checksum,
                udpSum(m));
    }

    /** {@link Checksum#verifyUdp} of the IPv6 datagram in {@link #ip6} and {@link #udp}, its fragments included. */
    private Checksum.UdpStatus ipv6Status() {
        if (chain == null) {
            return Checksum.verifyUdp(ip6, udp);
        }
        if (udp.checksum() == 0) {
            return Checksum.UdpStatus.INVALID;
        }
        return Checksum.udpStatus(Checksum.pseudoHeaderSum(ip6, IpProto.UDP, udpLength), udp.checksum(),
                udpSum(udp.segment()));
    }

    /** The sum of the UDP header and payload, over every fragment of a chain. */
    private int udpSum(MemorySegment m) {
        return chain == null ? Checksum.sum(m, udpAt, udpLength) : chain.sum(m, udpAt, udpLength);
    }

    private static boolean accepted(RxChecksumPolicy policy, Checksum.UdpStatus status) {
        return switch (status) {
            case VALID, ABSENT -> true;
            case PARTIAL -> policy == RxChecksumPolicy.VERIFY_UNLESS_PARTIAL;
            case INVALID -> false;
        };
    }

    private InetSocketAddress sender4(int ip, int port) {
        long key = scramble((ip & 0xffff_ffffL) << 16 | port, seed);
        InetSocketAddress sender = senders4.get(key);
        if (sender == null) {
            if (senders4.size() >= MAX_CACHED_SENDERS) {
                senders4.clear();
            }
            byte[] a = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
            try {
                sender = new InetSocketAddress(InetAddress.getByAddress(a), port);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
            senders4.put(key, sender);
        }
        return sender;
    }

    /**
     * A bijective, seeded mix of a sender key: the map probes linearly from a hash that folds the key's
     * halves, so raw (address, port) keys from a spoofed range cluster into probe chains thousands long
     * (measured: the event loop spent its time in {@code get}). The seed keeps chosen sources from
     * colliding on purpose. The IPv6 senders' cache hashes its keys with it too.
     */
    static long scramble(long key, long seed) {
        long k = key ^ seed;
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /** The sender of IPv6 address {@code high:low} (big-endian halves) and {@code port}: cached, or made and cached. */
    private InetSocketAddress sender6(long high, long low, int port) {
        InetSocketAddress sender = senders6.get(high, low, port);
        if (sender != null) {
            return sender;
        }
        byte[] ip = new byte[16];
        for (int i = 0; i < 8; i++) {
            ip[i] = (byte) (high >>> 56 - 8 * i);
            ip[8 + i] = (byte) (low >>> 56 - 8 * i);
        }
        try {
            InetAddress address = (ip[0] & 0xff) == 0xfe && (ip[1] & 0xc0) == 0x80
                    ? Inet6Address.getByAddress(null, ip, ifindex)
                    : InetAddress.getByAddress(ip);
            sender = new InetSocketAddress(address, port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        senders6.put(high, low, port, sender);
        return sender;
    }
}
