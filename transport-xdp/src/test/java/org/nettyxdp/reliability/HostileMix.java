package org.nettyxdp.reliability;

import org.nettyxdp.testing.Frames;
import org.nettyxdp.packet.DropReason;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.nettyxdp.testing.Frames.ETH_IPV4;
import static org.nettyxdp.testing.Frames.ETH_IPV6;
import static org.nettyxdp.testing.Frames.ETH_QINQ;
import static org.nettyxdp.testing.Frames.ETH_VLAN;
import static org.nettyxdp.testing.Frames.UDP;
import static org.nettyxdp.testing.Frames.cat;
import static org.nettyxdp.testing.Frames.eth;
import static org.nettyxdp.testing.Frames.ethTagged;
import static org.nettyxdp.testing.Frames.ipv4;
import static org.nettyxdp.testing.Frames.ipv6;
import static org.nettyxdp.testing.Frames.put16;
import static org.nettyxdp.testing.Frames.slice;
import static org.nettyxdp.testing.Frames.udp;
import static org.nettyxdp.testing.Frames.udpChecksum;

/**
 * A reproducible stream of hostile frames mixed with valid datagrams, each with the fate the XDP
 * steering program and the channel's RX validation must give it:
 * <ul>
 *   <li>{@link Fate#FAST}: a valid datagram the program steers and the channel delivers (zero-copy);</li>
 *   <li>{@link Fate#SLOW}: a valid datagram the program passes (fragments, IPv6 extension headers,
 *       frames longer than a UMEM chunk) and the kernel delivers through the companion socket;</li>
 *   <li>{@link Fate#DROP}: an invalid frame the program steers and the channel must count under
 *       {@link Sample#reason()};</li>
 *   <li>{@link Fate#KERNEL}: an invalid frame the program passes to the kernel, which drops it or
 *       answers it (ICMP, RST) but never delivers it to the channel;</li>
 *   <li>{@link Fate#AT_MOST_ONCE}: delivered once or dropped, as the kernel sees fit (broadcast MAC to our IP).</li>
 * </ul>
 * Every datagram-shaped frame carries {@link #MAGIC} and its sample's sequence number in the first
 * eight payload bytes, so that a delivery can be traced to its sample.
 */
final class HostileMix {
    static final int MAGIC = 0x4e585244; // "NXRD"

    enum Fate { FAST, SLOW, DROP, KERNEL, AT_MOST_ONCE }

    /** One sample: a datagram or hostile frame, sent as one or more frames. */
    record Sample(int seq, String kind, Fate fate, DropReason reason, int family, List<byte[]> frames) {
        boolean mustDeliver() {
            return fate == Fate.FAST || fate == Fate.SLOW;
        }
    }

    /** Addresses and ports of both ends. */
    record Ends(byte[] hostMac, byte[] peerMac, InetAddress hostV4, InetAddress peerV4, InetAddress hostV6,
                InetAddress peerV6, int port4, int port6) {
    }

    private final Ends ends;
    private final Random random;
    private final int maxFrame;
    private final int chunk;
    private final int hostMtu;
    private final byte[] h4;
    private final byte[] p4;
    private final byte[] h6;
    private final byte[] p6;
    private final byte[] other4;
    private int seq;
    private int fragId;
    private int loneFragId = 0x8000;

    /**
     * @param maxFrame longest frame the peer can send (peer MTU + 14), 0 for the default 1514
     * @param chunk    longest frame the channel's UMEM chunk takes (the program passes longer ones)
     * @param hostMtu  MTU of the receiving interface (longer frames are dropped by the veth)
     */
    HostileMix(Ends ends, long seed, int maxFrame, int chunk, int hostMtu) {
        this.ends = ends;
        this.random = new Random(seed);
        this.maxFrame = maxFrame;
        this.chunk = chunk;
        this.hostMtu = hostMtu;
        this.h4 = ends.hostV4.getAddress();
        this.p4 = ends.peerV4.getAddress();
        this.h6 = ends.hostV6.getAddress();
        this.p6 = ends.peerV6.getAddress();
        this.other4 = h4.clone();
        other4[3] = (byte) (other4[3] + 50);
    }

    /** The kinds, with their weights (valid ones together make up about half). */
    private static final String[] KINDS = {
        // valid: fast path
        "v4", "v4", "v4", "v4", "v4", "v4", "v6", "v6", "v6", "v4-runt", "v4-padded", "v4-options", "v4-nocsum",
        "v4-udp-shorter-than-ip", "v4-ttl1-tos", "v6-padded",
        // valid, longer than a UMEM frame: fast path as multi-buffer chains, between single frames
        "v4-jumbo", "v6-jumbo",
        // valid: kernel path
        "v4-frag", "v4-frag", "v6-frag", "v6-hbh", "v6-dstopts",
        // invalid chains: a payload byte in a later fragment corrupted; an IP length beyond the chain
        "v4-jumbo-udpcsum", "v6-jumbo-udpcsum", "v4-jumbo-iplen-long",
        // invalid: the channel drops
        "v4-iplen-long", "v4-iplen-short", "v4-udplen-short", "v4-udplen-long", "v4-ipcsum", "v4-udpcsum",
        "v4-wrong-ip", "v4-to-port6", "v6-to-port4", "v6-plen-long", "v6-plen-short",
        "v6-udplen-short", "v6-udplen-long", "v6-udpcsum", "v6-zerocsum",
        // invalid: the program passes them and the kernel deals with them
        "trunc-eth", "trunc-ip4", "trunc-udp4", "trunc-vlan", "trunc-ip6", "trunc-udp6", "v4-ihl-small",
        "v4-ihl-big", "v4-version", "v6-version", "v4-lone-frag", "v4-tcp", "v4-icmp", "v4-proto253",
        "v4-other-port", "ethertype", "ethertype", "double-tag", "v6-routing0", "v6-hbh-udpcsum",
        "v4-beyond-mtu", "v4-vlan", "v4-qinq", "v4-vlan-udpcsum",
        // for other hosts, or for every host: the program leaves them to the kernel
        "v4-foreign-mac", "v4-broadcast-mac",
    };

    /** The next sample. */
    Sample next() {
        for (;;) {
            String kind = KINDS[random.nextInt(KINDS.length)];
            Sample s = make(kind, seq);
            if (s != null) {
                seq++;
                return s;
            }
        }
    }

    private byte[] payload(int s, int len) {
        len = Math.max(len, 8);
        byte[] p = new byte[len];
        random.nextBytes(p);
        ByteBuffer.wrap(p).putInt(MAGIC).putInt(s);
        return p;
    }

    private int smallLen() {
        return 8 + random.nextInt(200);
    }

    private int anyLen(int maxPayload) {
        return random.nextInt(4) == 0 ? 8 + random.nextInt(maxPayload - 7) : smallLen();
    }

    private byte[] udp4(int s, int dport, int len, byte[] src, byte[] dst) {
        return udpChecksum(udp(20000 + s % 30000, dport, payload(s, len)), src, dst);
    }

    private byte[] udp6(int s, int dport, int len) {
        return udpChecksum(udp(20000 + s % 30000, dport, payload(s, len)), p6, h6);
    }

    private byte[] v4Frame(byte[] ip) {
        return eth(ends.hostMac, ends.peerMac, ETH_IPV4, ip);
    }

    private byte[] v6Frame(byte[] ip) {
        return eth(ends.hostMac, ends.peerMac, ETH_IPV6, ip);
    }

    private byte[] plain4(int s, int len) {
        return ipv4(p4, h4, UDP, s & 0xffff, 0x4000, new byte[0], udp4(s, ends.port4, len, p4, h4));
    }

    private byte[] plain6(int s, int len) {
        return ipv6(p6, h6, UDP, udp6(s, ends.port6, len));
    }

    private Sample one(int s, String kind, Fate fate, DropReason reason, int family, byte[] frame) {
        return new Sample(s, kind, fate, reason, family, List.of(frame));
    }

    private Sample make(String kind, int s) {
        int max4 = 1472;
        int max6 = 1452;
        switch (kind) {
            case "v4":
                return one(s, kind, Fate.FAST, null, 4, v4Frame(plain4(s, anyLen(max4))));
            case "v6":
                return one(s, kind, Fate.FAST, null, 6, v6Frame(plain6(s, anyLen(max6))));
            case "v4-runt":
                return one(s, kind, Fate.FAST, null, 4, v4Frame(plain4(s, 8 + random.nextInt(10))));
            case "v4-padded": {
                // Ethernet padding after the IP datagram: total length smaller than the frame
                byte[] f = v4Frame(plain4(s, 8 + random.nextInt(40)));
                byte[] pad = new byte[1 + random.nextInt(60)];
                random.nextBytes(pad);
                return one(s, kind, Fate.FAST, null, 4, cat(f, pad));
            }
            case "v6-padded": {
                byte[] f = v6Frame(plain6(s, 8 + random.nextInt(40)));
                byte[] pad = new byte[1 + random.nextInt(30)];
                random.nextBytes(pad);
                return one(s, kind, Fate.FAST, null, 6, cat(f, pad));
            }
            case "v4-options": {
                byte[] opts = new byte[4 * (1 + random.nextInt(10))];
                java.util.Arrays.fill(opts, (byte) 1);                // NOP
                opts[opts.length - 1] = 0;                             // EOL
                byte[] ip = ipv4(p4, h4, UDP, s & 0xffff, 0x4000, opts, udp4(s, ends.port4, anyLen(max4 - 40), p4, h4));
                return one(s, kind, Fate.FAST, null, 4, v4Frame(ip));
            }
            case "v4-nocsum": {
                byte[] u = udp(20000, ends.port4, payload(s, anyLen(max4)));
                return one(s, kind, Fate.FAST, null, 4, v4Frame(ipv4(p4, h4, UDP, s & 0xffff, 0x4000, new byte[0], u)));
            }
            case "v4-udp-shorter-than-ip": {
                // the UDP length ends before the IP payload does; the bytes after it are not data
                byte[] u = udp4(s, ends.port4, smallLen(), p4, h4);
                byte[] trailer = new byte[1 + random.nextInt(20)];
                random.nextBytes(trailer);
                return one(s, kind, Fate.FAST, null, 4,
                        v4Frame(ipv4(p4, h4, UDP, s & 0xffff, 0, new byte[0], cat(u, trailer))));
            }
            case "v4-ttl1-tos": {
                byte[] ip = ipv4(p4, h4, UDP, s & 0xffff, 0, new byte[0], udp4(s, ends.port4, smallLen(), p4, h4));
                ip[8] = 1;
                ip[1] = (byte) 0xff;
                Frames.fixIpv4Checksum(ip, 0);
                return one(s, kind, Fate.FAST, null, 4, v4Frame(ip));
            }
            case "v4-vlan":
                // a VLAN the host has no device for: the program passes it and the kernel drops it
                return one(s, kind, Fate.KERNEL, null, 4,
                        ethTagged(ends.hostMac, ends.peerMac, ETH_VLAN, ETH_IPV4, plain4(s, smallLen())));
            case "v4-frag": {
                // one datagram in 2-4 fragments, in random order; the kernel reassembles it
                byte[] u = udp4(s, ends.port4, 200 + random.nextInt(1200), p4, h4);
                int id = fragId++ & 0x7fff;
                List<byte[]> frags = new ArrayList<>();
                int n = 2 + random.nextInt(3);
                int step = (u.length / n + 7) & ~7;
                for (int off = 0; off < u.length; off += step) {
                    int end = Math.min(u.length, off + step);
                    boolean more = end < u.length;
                    frags.add(v4Frame(ipv4(p4, h4, UDP, id, (more ? 0x2000 : 0) | off / 8, new byte[0],
                            slice(u, off, end))));
                }
                if (random.nextBoolean()) {
                    Collections.reverse(frags);
                }
                return new Sample(s, kind, Fate.SLOW, null, 4, frags);
            }
            case "v6-frag": {
                byte[] u = udp6(s, ends.port6, 200 + random.nextInt(1000));
                int id = 0x10000 + fragId++;
                int cut = (u.length / 2) & ~7;
                byte[] f1 = v6Frame(ipv6(p6, h6, Frames.IPV6_FRAGMENT,
                        Frames.ipv6Fragment(UDP, 0, true, id, slice(u, 0, cut))));
                byte[] f2 = v6Frame(ipv6(p6, h6, Frames.IPV6_FRAGMENT,
                        Frames.ipv6Fragment(UDP, cut / 8, false, id, slice(u, cut, u.length))));
                return new Sample(s, kind, Fate.SLOW, null, 6, random.nextBoolean() ? List.of(f1, f2) : List.of(f2, f1));
            }
            case "v6-hbh":
                return one(s, kind, Fate.SLOW, null, 6,
                        v6Frame(ipv6(p6, h6, Frames.IPV6_HOPOPTS, Frames.ipv6Options(UDP, udp6(s, ends.port6, smallLen())))));
            case "v6-dstopts":
                return one(s, kind, Fate.SLOW, null, 6,
                        v6Frame(ipv6(p6, h6, Frames.IPV6_DSTOPTS, Frames.ipv6Options(UDP, udp6(s, ends.port6, smallLen())))));
            case "v4-jumbo", "v4-jumbo-udpcsum", "v4-jumbo-iplen-long": {
                // longer than a UMEM chunk but within the MTU: a multi-buffer chain on the fast path
                int frameMax = Math.min(maxFrame, hostMtu + 14);
                if (frameMax <= chunk) {
                    return null;
                }
                int frameLen = chunk + 1 + random.nextInt(frameMax - chunk);
                byte[] ip = plain4(s, frameLen - 14 - 28);
                if (kind.endsWith("udpcsum")) {
                    if (looksPartial(ip, 20, p4, h4)) {
                        return null;
                    }
                    ip[ip.length - 1 - random.nextInt(ip.length - chunk + 14)] ^= 0x5a;
                    return one(s, kind, Fate.DROP, DropReason.BAD_UDP_CHECKSUM, 4, v4Frame(ip));
                }
                if (kind.endsWith("iplen-long")) {
                    put16(ip, 2, ip.length + 1 + random.nextInt(100));
                    Frames.fixIpv4Checksum(ip, 0);
                    return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 4, v4Frame(ip));
                }
                return one(s, kind, Fate.FAST, null, 4, v4Frame(ip));
            }
            case "v6-jumbo", "v6-jumbo-udpcsum": {
                int frameMax = Math.min(maxFrame, hostMtu + 14);
                if (frameMax <= chunk) {
                    return null;
                }
                int frameLen = chunk + 1 + random.nextInt(frameMax - chunk);
                byte[] ip = plain6(s, frameLen - 14 - 48);
                if (kind.endsWith("udpcsum")) {
                    if (looksPartial(ip, 40, p6, h6)) {
                        return null;
                    }
                    ip[ip.length - 1 - random.nextInt(ip.length - chunk + 14)] ^= 0x5a;
                    return one(s, kind, Fate.DROP, DropReason.BAD_UDP_CHECKSUM, 6, v6Frame(ip));
                }
                return one(s, kind, Fate.FAST, null, 6, v6Frame(ip));
            }
            case "v4-iplen-long": {
                byte[] ip = plain4(s, smallLen());
                put16(ip, 2, ip.length + 1 + random.nextInt(100));
                Frames.fixIpv4Checksum(ip, 0);
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 4, v4Frame(ip));
            }
            case "v4-iplen-short": {
                byte[] ip = plain4(s, smallLen());
                put16(ip, 2, random.nextInt(28));
                Frames.fixIpv4Checksum(ip, 0);
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 4, v4Frame(ip));
            }
            case "v4-udplen-short": {
                byte[] ip = plain4(s, smallLen());
                put16(ip, 24, random.nextInt(8));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 4, v4Frame(ip));
            }
            case "v4-udplen-long": {
                byte[] ip = plain4(s, smallLen());
                put16(ip, 24, ip.length - 20 + 1 + random.nextInt(1000));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 4, v4Frame(ip));
            }
            case "v4-ipcsum": {
                byte[] ip = plain4(s, smallLen());
                ip[10] ^= (byte) (1 + random.nextInt(255));
                return one(s, kind, Fate.DROP, DropReason.BAD_IP_CHECKSUM, 4, v4Frame(ip));
            }
            case "v4-udpcsum": {
                byte[] ip = plain4(s, anyLen(max4));
                corruptUdpChecksum(ip, 20, p4, h4);
                return one(s, kind, Fate.DROP, DropReason.BAD_UDP_CHECKSUM, 4, v4Frame(ip));
            }
            case "v4-vlan-udpcsum": {
                byte[] ip = plain4(s, smallLen());
                corruptUdpChecksum(ip, 20, p4, h4);
                return one(s, kind, Fate.KERNEL, null, 4,
                        ethTagged(ends.hostMac, ends.peerMac, ETH_VLAN, ETH_IPV4, ip));
            }
            // the program compares the destination address and family with the channel's bound address
            // and passes mismatches to the kernel (no socket there has the port: not delivered)
            case "v4-wrong-ip":
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ipv4(p4, other4, UDP, s & 0xffff,
                        0x4000, new byte[0], udp4(s, ends.port4, smallLen(), p4, other4))));
            case "v4-to-port6":
                return one(s, kind, Fate.KERNEL, null, 6, v4Frame(ipv4(p4, h4, UDP, s & 0xffff,
                        0x4000, new byte[0], udp4(s, ends.port6, smallLen(), p4, h4))));
            case "v6-to-port4":
                return one(s, kind, Fate.KERNEL, null, 4,
                        v6Frame(ipv6(p6, h6, UDP, udp6(s, ends.port4, smallLen()))));
            case "v4-qinq":
                // one 802.1ad tag, a VLAN the host does not have: the kernel's, which drops it
                return one(s, kind, Fate.KERNEL, null, 4,
                        ethTagged(ends.hostMac, ends.peerMac, ETH_QINQ, ETH_IPV4, plain4(s, smallLen())));
            case "v6-plen-long": {
                byte[] ip = plain6(s, smallLen());
                put16(ip, 4, ip.length - 40 + 1 + random.nextInt(100));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 6, v6Frame(ip));
            }
            case "v6-plen-short": {
                byte[] ip = plain6(s, smallLen());
                put16(ip, 4, random.nextInt(8));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 6, v6Frame(ip));
            }
            case "v6-udplen-short": {
                byte[] ip = plain6(s, smallLen());
                put16(ip, 44, random.nextInt(8));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 6, v6Frame(ip));
            }
            case "v6-udplen-long": {
                byte[] ip = plain6(s, smallLen());
                put16(ip, 44, ip.length - 40 + 1 + random.nextInt(1000));
                return one(s, kind, Fate.DROP, DropReason.BAD_LENGTH, 6, v6Frame(ip));
            }
            case "v6-udpcsum": {
                byte[] ip = plain6(s, anyLen(max6));
                corruptUdpChecksum(ip, 40, p6, h6);
                return one(s, kind, Fate.DROP, DropReason.BAD_UDP_CHECKSUM, 6, v6Frame(ip));
            }
            case "v6-zerocsum": {
                // a zero UDP checksum is not allowed over IPv6 (RFC 8200)
                byte[] ip = plain6(s, smallLen());
                put16(ip, 46, 0);
                return one(s, kind, Fate.DROP, DropReason.BAD_UDP_CHECKSUM, 6, v6Frame(ip));
            }
            case "trunc-eth": {
                int[] types = {ETH_IPV4, ETH_IPV6, ETH_VLAN};
                return one(s, kind, Fate.KERNEL, null, 4,
                        eth(ends.hostMac, ends.peerMac, types[random.nextInt(3)], new byte[0]));
            }
            case "trunc-ip4": {
                byte[] ip = plain4(s, smallLen());
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(slice(ip, 0, 1 + random.nextInt(19))));
            }
            case "trunc-udp4": {
                byte[] ip = plain4(s, smallLen());
                byte[] cut = slice(ip, 0, 20 + random.nextInt(8));
                if (random.nextBoolean()) {
                    put16(cut, 2, cut.length);
                    Frames.fixIpv4Checksum(cut, 0);
                }
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(cut));
            }
            case "trunc-vlan": {
                byte[] tagged = ethTagged(ends.hostMac, ends.peerMac, ETH_VLAN, ETH_IPV4, plain4(s, smallLen()));
                int[] cuts = {14 + random.nextInt(4), 18 + random.nextInt(20), 38 + random.nextInt(8)};
                return one(s, kind, Fate.KERNEL, null, 4, slice(tagged, 0, cuts[random.nextInt(3)]));
            }
            case "trunc-ip6": {
                byte[] ip = plain6(s, smallLen());
                return one(s, kind, Fate.KERNEL, null, 6, v6Frame(slice(ip, 0, 1 + random.nextInt(39))));
            }
            case "trunc-udp6": {
                byte[] ip = plain6(s, smallLen());
                byte[] cut = slice(ip, 0, 40 + random.nextInt(8));
                if (random.nextBoolean()) {
                    put16(cut, 4, cut.length - 40);
                }
                return one(s, kind, Fate.KERNEL, null, 6, v6Frame(cut));
            }
            case "v4-ihl-small": {
                byte[] ip = plain4(s, smallLen());
                ip[0] = (byte) (0x40 | random.nextInt(5));
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ip));
            }
            case "v4-ihl-big": {
                // IHL claims options the frame does not hold: the UDP header would start past its end
                int ihl = 6 + random.nextInt(10);
                byte[] ip = plain4(s, 8);
                ip[0] = (byte) (0x40 | ihl);
                byte[] cut = slice(ip, 0, Math.min(ip.length, ihl * 4 + random.nextInt(8)));
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(cut));
            }
            case "v4-version": {
                byte[] ip = plain4(s, smallLen());
                int[] versions = {0, 5, 6, 15};
                ip[0] = (byte) (versions[random.nextInt(4)] << 4 | 5);
                Frames.fixIpv4Checksum(ip, 0);
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ip));
            }
            case "v6-version": {
                byte[] ip = plain6(s, smallLen());
                int[] versions = {0, 4, 7, 15};
                ip[0] = (byte) (versions[random.nextInt(4)] << 4);
                return one(s, kind, Fate.KERNEL, null, 6, v6Frame(ip));
            }
            case "v4-lone-frag": {
                if ((loneFragId & 0xffff) == 0) {
                    return null;
                }
                if (random.nextInt(20) != 0) {
                    return null; // rare: they wait in the kernel's reassembly queue for 30 s
                }
                byte[] u = udp4(s, ends.port4, 64, p4, h4);
                int id = loneFragId++;
                boolean first = random.nextBoolean();
                byte[] ip = first
                        ? ipv4(p4, h4, UDP, id, 0x2000, new byte[0], slice(u, 0, 32))
                        : ipv4(p4, h4, UDP, id, 4, new byte[0], slice(u, 32, u.length));
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ip));
            }
            case "v4-tcp": {
                byte[] tcp = new byte[20];
                put16(tcp, 0, 40000);
                put16(tcp, 2, ends.port4);
                tcp[12] = 0x50;
                tcp[13] = 0x02;
                return one(s, kind, Fate.KERNEL, null, 4,
                        v4Frame(ipv4(p4, h4, Frames.TCP, s & 0xffff, 0x4000, new byte[0], tcp)));
            }
            case "v4-icmp": {
                byte[] icmp = {8, 0, (byte) 0xf7, (byte) 0xfe, 0, 1, 0, 0};
                return one(s, kind, Fate.KERNEL, null, 4,
                        v4Frame(ipv4(p4, h4, Frames.ICMP, s & 0xffff, 0x4000, new byte[0], icmp)));
            }
            case "v4-proto253":
                // an experimental protocol whose payload happens to look like UDP to our port
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ipv4(p4, h4, 253, s & 0xffff, 0x4000, new byte[0],
                        udp4(s, ends.port4, smallLen(), p4, h4))));
            case "v4-other-port":
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(ipv4(p4, h4, UDP, s & 0xffff, 0x4000, new byte[0],
                        udp4(s, 9, smallLen(), p4, h4))));
            case "ethertype": {
                int[] types = {0x0000, 0x0042, 0x05dc, 0x0806, 0x88b5, 0x88cc, 0x8847, 0x9100, 0xffff, 0x0801};
                byte[] body = plain4(s, smallLen());
                return one(s, kind, Fate.KERNEL, null, 4,
                        eth(ends.hostMac, ends.peerMac, types[random.nextInt(types.length)], body));
            }
            case "double-tag": {
                // 802.1ad + 802.1Q: the program looks through one tag only and passes it
                byte[] inner = new byte[4];
                put16(inner, 0, 9);
                put16(inner, 2, ETH_IPV4);
                return one(s, kind, Fate.KERNEL, null, 4,
                        ethTagged(ends.hostMac, ends.peerMac, ETH_QINQ, ETH_VLAN, cat(inner, plain4(s, smallLen()))));
            }
            case "v6-routing0":
                // segments left 0: the kernel ignores the header (RFC 8200 4.4) and delivers the datagram
                return one(s, kind, Fate.SLOW, null, 6,
                        v6Frame(ipv6(p6, h6, Frames.IPV6_ROUTING, Frames.ipv6Routing0(UDP, udp6(s, ends.port6, smallLen())))));
            case "v6-hbh-udpcsum": {
                byte[] u = udp6(s, ends.port6, smallLen());
                u[6] ^= 0x5a;
                return one(s, kind, Fate.KERNEL, null, 6,
                        v6Frame(ipv6(p6, h6, Frames.IPV6_HOPOPTS, Frames.ipv6Options(UDP, u))));
            }
            case "v4-beyond-mtu": {
                // longer than the receiving interface's MTU (but within the sender's): the veth drops it
                // the veth forwards up to MTU + 14 + 4 (a VLAN tag's worth) and drops longer frames
                int lo = hostMtu + 19;
                if (maxFrame < lo) {
                    return null;
                }
                int frameLen = lo + random.nextInt(maxFrame - lo + 1);
                return one(s, kind, Fate.KERNEL, null, 4, v4Frame(plain4(s, frameLen - 14 - 28)));
            }
            case "v4-foreign-mac": {
                // a unicast frame for another host (promiscuous mode, a bridge): the program passes it, the
                // kernel drops it (PACKET_OTHERHOST)
                byte[] mac = {0x02, 0x11, 0x22, 0x33, 0x44, (byte) random.nextInt(256)};
                return one(s, kind, Fate.KERNEL, null, 4, eth(mac, ends.peerMac, ETH_IPV4, plain4(s, smallLen())));
            }
            case "v4-broadcast-mac": {
                byte[] mac = {-1, -1, -1, -1, -1, -1};
                // to every host: the program passes it, the kernel delivers it (unicast IP, our address)
                return one(s, kind, Fate.SLOW, null, 4, eth(mac, ends.peerMac, ETH_IPV4, plain4(s, smallLen())));
            }
            default:
                throw new IllegalArgumentException(kind);
        }
    }

    /** Flips the UDP checksum of the IP datagram {@code ip} (UDP at {@code l4}) to a wrong, non-partial value. */
    private void corruptUdpChecksum(byte[] ip, int l4, byte[] src, byte[] dst) {
        byte[] u = slice(ip, l4, ip.length);
        int good = Frames.get16(u, 6);
        int partial = Frames.partialValue(u, src, dst);
        // one draw whatever the addresses, so mixes with the same seed and other ends stay in step
        int bad = random.nextInt(0x10000);
        while (bad == good || bad == 0 || bad == partial || (good == 0xffff && bad == 0)
                || (bad == 0xffff && good == 0) || onesEqual(bad, good)) {
            bad = (bad + 1) & 0xffff;
        }
        put16(ip, l4 + 6, bad);
    }

    /**
     * Whether the UDP checksum field at {@code l4} holds the pseudo-header sum alone: about one
     * datagram in 65 536 has a valid checksum equal to it. Corrupting such a datagram's payload makes
     * a frame that {@code VERIFY_UNLESS_PARTIAL} rightly accepts as a checksum-offload frame, so it
     * cannot be a sample the channel must drop.
     */
    private static boolean looksPartial(byte[] ip, int l4, byte[] src, byte[] dst) {
        byte[] u = slice(ip, l4, ip.length);
        return Frames.get16(u, 6) == Frames.partialValue(u, src, dst);
    }

    /** 0x0000 and 0xffff are the same number in one's complement. */
    private static boolean onesEqual(int a, int b) {
        return (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff);
    }

    static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
