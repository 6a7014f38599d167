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

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
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
    private final EthHdr eth = new EthHdr();
    private final Ipv4Hdr ip4 = new Ipv4Hdr();
    private final Ipv6Hdr ip6 = new Ipv6Hdr();
    private final UdpHdr udp = new UdpHdr();
    private final byte[] addr16 = new byte[16];
    private final LongObjectHashMap<InetSocketAddress> senders4 = new LongObjectHashMap<>();
    private final long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    /** The multi-buffer packet being validated, or null for a single frame. */
    private FrameChain chain;
    private InetSocketAddress connectedPeer;
    private InetSocketAddress sender;

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
        return (int) (udp.offset() + UdpHdr.LEN - p.frameAddr() - XdpPacket.XDP_PACKET_HEADROOM);
    }

    /** Length of the accepted datagram's payload. */
    int payloadLength() {
        return udp.length() - UdpHdr.LEN;
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
        p.read(0, eth);
        if (checkMac && eth.destinationBits() != ifMacBits) {
            // the program passes group addresses; a unicast frame for another host (promiscuous
            // mode, a bridge) is not ours, as the kernel would also decide
            return DropReason.NOT_FOR_US;
        }
        int l3 = eth.size();
        int type = eth.etherType();
        if (type == EtherType.IPV4) {
            if (linear < l3 + Ipv4Hdr.LEN) {
                return DropReason.TRUNCATED;
            }
            p.read(l3, ip4);
            int ihl = ip4.headerLength();
            int total = ip4.totalLength();
            if (ip4.version() != 4 || ihl < Ipv4Hdr.LEN) {
                return DropReason.BAD_LENGTH;
            }
            if (linear < l3 + ihl + UdpHdr.LEN) {
                return DropReason.TRUNCATED;
            }
            if (total < ihl + UdpHdr.LEN || l3 + total > len) {
                return DropReason.BAD_LENGTH;
            }
            if (ip4.protocol() != IpProto.UDP || ip4.isFragment()) {
                return DropReason.NOT_FOR_US;
            }
            if (!ip4.isChecksumValid()) {
                return DropReason.BAD_IP_CHECKSUM;
            }
            if (MartianFilter.isMartian4(ip4.source(), loopback, locals.get())) {
                return DropReason.MARTIAN_SOURCE;
            }
            p.read(l3 + ihl, udp);
            int ulen = udp.length();
            if (ulen < UdpHdr.LEN || ulen > total - ihl) {
                return DropReason.BAD_LENGTH;
            }
            if (udp.destinationPort() != port || !accept4 || boundIpv6 != null
                    || boundIpv4 != 0 && ip4.destination() != boundIpv4) {
                return DropReason.NOT_FOR_US;
            }
            if (!checksumAccepted(policy, true)) {
                return DropReason.BAD_UDP_CHECKSUM;
            }
            sender = sender4(ip4.source(), udp.sourcePort());
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
            if (!checksumAccepted(policy, false)) {
                return DropReason.BAD_UDP_CHECKSUM;
            }
            ip6.getSource(addr16);
            sender = sender6(addr16, udp.sourcePort());
        } else {
            return DropReason.NOT_FOR_US;
        }
        if (connectedPeer != null && !connectedPeer.equals(sender)) {
            return DropReason.NOT_CONNECTED_PEER;
        }
        return null;
    }

    private boolean checksumAccepted(RxChecksumPolicy policy, boolean v4) {
        if (policy == RxChecksumPolicy.IGNORE) {
            return true;
        }
        Checksum.UdpStatus status = chain != null ? verifyChain(v4)
                : v4 ? Checksum.verifyUdp(ip4, udp) : Checksum.verifyUdp(ip6, udp);
        return switch (status) {
            case VALID, ABSENT -> true;
            case PARTIAL -> policy == RxChecksumPolicy.VERIFY_UNLESS_PARTIAL;
            case INVALID -> false;
        };
    }

    /** {@link Checksum#verifyUdp} over the fragments of {@link #chain}. */
    private Checksum.UdpStatus verifyChain(boolean v4) {
        int length = udp.length();
        if (udp.checksum() == 0) {
            return v4 ? Checksum.UdpStatus.ABSENT : Checksum.UdpStatus.INVALID;
        }
        int pseudo = v4 ? Checksum.pseudoHeaderSum(ip4, IpProto.UDP, length)
                : Checksum.pseudoHeaderSum(ip6, IpProto.UDP, length);
        if (Checksum.add(pseudo, chain.sum(udp.segment(), udp.offset(), length)) == 0xFFFF) {
            return Checksum.UdpStatus.VALID;
        }
        return udp.checksum() == pseudo ? Checksum.UdpStatus.PARTIAL : Checksum.UdpStatus.INVALID;
    }

    private InetSocketAddress sender4(int ip, int port) {
        long key = scramble((ip & 0xffff_ffffL) << 16 | port);
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
     * colliding on purpose.
     */
    private long scramble(long key) {
        long k = key ^ seed;
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private InetSocketAddress sender6(byte[] ip, int port) {
        try {
            InetAddress address = (ip[0] & 0xff) == 0xfe && (ip[1] & 0xc0) == 0x80
                    ? Inet6Address.getByAddress(null, ip, ifindex)
                    : InetAddress.getByAddress(ip);
            return new InetSocketAddress(address, port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
