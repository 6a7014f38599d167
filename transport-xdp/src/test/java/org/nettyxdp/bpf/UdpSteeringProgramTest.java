package org.nettyxdp.bpf;

import org.nettyxdp.testing.Frames;
import org.nettyxdp.testing.TestHosts;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.provider.MethodSource;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Syscalls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.ETH_ARP;
import static org.nettyxdp.testing.Frames.ETH_IPV4;
import static org.nettyxdp.testing.Frames.ETH_IPV6;
import static org.nettyxdp.testing.Frames.IPV6_HOPOPTS;
import static org.nettyxdp.testing.Frames.ICMP;
import static org.nettyxdp.testing.Frames.ICMPV6;
import static org.nettyxdp.testing.Frames.TCP;
import static org.nettyxdp.testing.Frames.UDP;
import static org.nettyxdp.testing.Frames.arpRequest;
import static org.nettyxdp.testing.Frames.eth;
import static org.nettyxdp.testing.Frames.ethVlan;
import static org.nettyxdp.testing.Frames.ipv6Options;
import static org.nettyxdp.testing.Frames.icmpEcho;
import static org.nettyxdp.testing.Frames.ipv4;
import static org.nettyxdp.testing.Frames.ipv6;
import static org.nettyxdp.testing.Frames.tcp;
import static org.nettyxdp.testing.Frames.udp;

/**
 * The steering program run by the kernel on crafted frames ({@code BPF_PROG_TEST_RUN}). It is loaded
 * with fallback {@code XDP_DROP} and an empty XSKMAP, so a steered frame comes back as DROP and a
 * frame left to the kernel as PASS. The interface's MAC is {@link #MAC} (the frames' destination), the
 * host's addresses 10.0.0.2, .3, .9 and fd00::2, ::3, ::9.
 */
class UdpSteeringProgramTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    static final XdpAction STEERED = XdpAction.DROP;
    static final XdpAction KERNEL = XdpAction.PASS;
    static final int PORT = 9000;
    static final int OTHER = 9001;
    static final int LIMITED = 9100;
    static final int LIMIT = 100;
    /** Bound to the IPv4 destination of {@link Frames#ipv4} (10.0.0.2). */
    static final int V4PORT = 9200;
    /** Bound to the IPv6 destination of {@link Frames#ipv6} (fd00::2). */
    static final int V6PORT = 9300;
    /** Bound to 10.0.0.3: the frames' destination 10.0.0.2 is another address. */
    static final int V4OTHER = 9201;
    /** Bound to fd00::3. */
    static final int V6OTHER = 9301;
    /** Bound to ::ffff:10.0.0.2, an IPv6 address: never matches IPv4 frames to 10.0.0.2. */
    static final int V4MAPPED = 9302;
    /** Bound to 0.0.0.0: any local IPv4 address. */
    static final int V4WILDCARD = 9202;
    /** Bound to :: only (IPV6_V6ONLY): any local IPv6 address. */
    static final int V6WILDCARD = 9204;
    /** Bound to 10.0.0.2 with frame limit {@link #LIMIT}. */
    static final int V4LIMITED = 9203;
    /** 10.0.0.2 and fd00::2 without limit, plus a wildcard entry limited to {@link #LIMIT}. */
    static final int MIXED = 9400;
    /** 10.0.0.2 limited to {@link #LIMIT}, plus a wildcard entry without limit. */
    static final int MIXED_LIMITED_EXACT = 9401;
    /** 10.0.0.2 and fd00::2 without limit, 10.0.0.3 and fd00::3 limited to {@link #LIMIT}; no wildcard. */
    static final int SHARED = 9402;
    /** A frame longer than {@link #LIMIT} (IPv4 or IPv6). */
    static final int BIG = 200;
    /** Offsets of the destination addresses in untagged frames. */
    static final int V4_DST = 14 + 16;
    static final int V6_DST = 14 + 24;

    /** The interface's MAC address: the destination of {@link Frames#eth}. */
    static final byte[] MAC = {0x02, 0, 0, 0, 0, 0x01};

    static PortMap ports;
    static LocalAddressMap locals;
    static XskMap xsks;
    static BpfProgram program;

    @BeforeAll
    static void load() throws Exception {
        TestHosts.assumeRoot("bpf(2) (CAP_BPF + CAP_NET_ADMIN)");
        ports = PortMap.create("nx_t_ports", 32);
        locals = LocalAddressMap.create("nx_t_locals", 16);
        xsks = XskMap.create("nx_t_xsks", 32);
        program = UdpSteeringProgram.load(ports, locals, xsks, 1, MAC, XdpAction.DROP, false);
        for (String a : new String[] {"10.0.0.2", "10.0.0.3", "10.0.0.9", "fd00::2", "fd00::3", "fd00::9"}) {
            locals.add(InetAddress.getByName(a));
        }
        wildcards(ports, PORT, 0, 0);
        wildcards(ports, LIMITED, 1, LIMIT);
        ports.put(V4PORT, InetAddress.getByName("10.0.0.2"), 2, 0);
        ports.put(V6PORT, InetAddress.getByName("fd00::2"), 3, 0);
        ports.put(V4OTHER, InetAddress.getByName("10.0.0.3"), 4, 0);
        ports.put(V6OTHER, InetAddress.getByName("fd00::3"), 5, 0);
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 2};
        ports.put(V4MAPPED, Inet6Address.getByAddress(null, mapped, -1), 6, 0);
        ports.put(V4WILDCARD, ANY4, 7, 0);
        ports.put(V6WILDCARD, ANY6, 18, 0);
        ports.put(V4LIMITED, InetAddress.getByName("10.0.0.2"), 8, LIMIT);
        // several entries on one port; the frame limits tell which entry took a frame
        ports.put(MIXED, InetAddress.getByName("10.0.0.2"), 9, 0);
        ports.put(MIXED, InetAddress.getByName("fd00::2"), 10, 0);
        wildcards(ports, MIXED, 11, LIMIT);
        ports.put(MIXED_LIMITED_EXACT, InetAddress.getByName("10.0.0.2"), 12, LIMIT);
        wildcards(ports, MIXED_LIMITED_EXACT, 13, 0);
        ports.put(SHARED, InetAddress.getByName("10.0.0.2"), 14, 0);
        ports.put(SHARED, InetAddress.getByName("10.0.0.3"), 15, LIMIT);
        ports.put(SHARED, InetAddress.getByName("fd00::2"), 16, 0);
        ports.put(SHARED, InetAddress.getByName("fd00::3"), 17, LIMIT);
    }

    @AfterAll
    static void close() {
        if (program != null) {
            program.close();
        }
        if (xsks != null) {
            xsks.close();
        }
        if (locals != null) {
            locals.close();
        }
        if (ports != null) {
            ports.close();
        }
    }

    static final InetAddress ANY4 = address("0.0.0.0");
    static final InetAddress ANY6 = address("::");

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The wildcard entries of both families, as a dual-stack channel puts them. */
    static void wildcards(PortMap map, int port, int slot, int limit) throws BpfException {
        map.put(port, ANY4, slot, limit);
        map.put(port, ANY6, slot, limit);
    }

    static void removeWildcards(PortMap map, int port) throws BpfException {
        map.remove(port, ANY4);
        map.remove(port, ANY6);
    }

    static XdpAction run(byte[] frame) throws BpfException {
        return ProgTestRun.run(program, frame).action();
    }

    static Arguments c(String name, byte[] frame, XdpAction expected) {
        return Arguments.of(name, frame, expected);
    }

    static byte[] v4udp(int port, int payload) {
        return eth(ETH_IPV4, ipv4(UDP, udp(40000, port, payload)));
    }

    static byte[] v6udp(int port, int payload) {
        return eth(ETH_IPV6, ipv6(UDP, udp(40000, port, payload)));
    }

    static byte[] withByte(byte[] frame, int index, int value) {
        byte[] f = frame.clone();
        f[index] = (byte) value;
        return f;
    }

    static Stream<Arguments> frames() {
        return Stream.of(
                c("IPv4 UDP to bound port", v4udp(PORT, 32), STEERED),
                c("IPv4 UDP to bound port, empty payload", v4udp(PORT, 0), STEERED),
                c("IPv4 UDP to bound port, 1472-byte payload", v4udp(PORT, 1472), STEERED),
                c("IPv4 UDP to other port", v4udp(OTHER, 32), KERNEL),
                c("IPv4 UDP to bound port, multicast MAC 01:00:5e", withByte(v4udp(PORT, 32), 0, 0x01), KERNEL),
                c("IPv6 UDP to bound port, multicast MAC 33:33", withByte(v6udp(PORT, 32), 0, 0x33), KERNEL),
                c("IPv4 UDP to bound port, broadcast MAC", withByte(v4udp(PORT, 32), 0, 0xff), KERNEL),
                c("IPv4 UDP to bound port, another host's MAC", withByte(v4udp(PORT, 32), 5, 0x77), KERNEL),
                c("IPv6 UDP to bound port, another host's MAC", withByte(v6udp(PORT, 32), 1, 0x10), KERNEL),
                c("IPv4 UDP to byte-swapped port", v4udp(Integer.reverseBytes(PORT) >>> 16, 32), KERNEL),
                c("IPv6 UDP to bound port", v6udp(PORT, 32), STEERED),
                c("IPv6 UDP to other port", v6udp(OTHER, 32), KERNEL),
                c("IPv4 TCP to bound port", eth(ETH_IPV4, ipv4(TCP, tcp(40000, PORT))), KERNEL),
                c("IPv6 TCP to bound port", eth(ETH_IPV6, ipv6(TCP, tcp(40000, PORT))), KERNEL),
                c("IPv4 DF only (not a fragment)",
                        eth(ETH_IPV4, ipv4(UDP, 5, 0x4000, udp(1, PORT, 8))), STEERED),
                c("IPv4 no flags", eth(ETH_IPV4, ipv4(UDP, 5, 0, udp(1, PORT, 8))), STEERED),
                c("IPv4 first fragment (MF)", eth(ETH_IPV4, ipv4(UDP, 5, 0x2000, udp(1, PORT, 8))), KERNEL),
                c("IPv4 last fragment (offset 185)",
                        eth(ETH_IPV4, ipv4(UDP, 5, 185, udp(1, PORT, 8))), KERNEL),
                c("IPv4 middle fragment (MF + offset 1)",
                        eth(ETH_IPV4, ipv4(UDP, 5, 0x2001, udp(1, PORT, 8))), KERNEL),
                c("IPv4 DF + offset 0x1000", eth(ETH_IPV4, ipv4(UDP, 5, 0x5000, udp(1, PORT, 8))), KERNEL),
                c("IPv4 IHL 6 (options)", eth(ETH_IPV4, ipv4(UDP, 6, 0, udp(1, PORT, 8))), STEERED),
                c("IPv4 IHL 15 (40 bytes of options)",
                        eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, PORT, 8))), STEERED),
                c("IPv4 IHL 15, other port", eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, OTHER, 8))), KERNEL),
                c("IPv4 IHL 4", eth(ETH_IPV4, ipv4(UDP, 4, 0, udp(1, PORT, 8))), KERNEL),
                c("IPv4 IHL 0", eth(ETH_IPV4, ipv4(UDP, 0, 0, udp(1, PORT, 8))), KERNEL),
                c("version 6 under EtherType IPv4", withByte(v4udp(PORT, 8), 14, 0x65), KERNEL),
                c("version 4 under EtherType IPv6", withByte(v6udp(PORT, 8), 14, 0x40), KERNEL),
                c("802.1Q IPv4 UDP to bound port (a VLAN: the kernel's)", ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1, PORT, 16))),
                        KERNEL),
                c("802.1Q IPv6 UDP to bound port (a VLAN: the kernel's)", ethVlan(0x8100, ETH_IPV6, ipv6(UDP, udp(1, PORT, 16))),
                        KERNEL),
                c("802.1ad IPv4 UDP to bound port (a VLAN: the kernel's)", ethVlan(0x88a8, ETH_IPV4, ipv4(UDP, udp(1, PORT, 16))),
                        KERNEL),
                c("802.1ad IPv6 UDP to bound port (a VLAN: the kernel's)",
                        ethVlan(0x88a8, ETH_IPV6, ipv6(UDP, udp(1, PORT, 16))), KERNEL),
                c("802.1Q IPv4 UDP to other port", ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1, OTHER, 16))),
                        KERNEL),
                c("802.1Q IPv4 IHL 7 (a VLAN: the kernel's)", ethVlan(0x8100, ETH_IPV4, ipv4(UDP, 7, 0, udp(1, PORT, 16))),
                        KERNEL),
                c("802.1Q IPv4 fragment", ethVlan(0x8100, ETH_IPV4, ipv4(UDP, 5, 0x2000, udp(1, PORT, 16))),
                        KERNEL),
                c("QinQ (two tags) is left to the kernel",
                        ethVlan(0x88a8, 0x8100, Frames.cat(new byte[] {0, 7, 0x08, 0x00},
                                ipv4(UDP, udp(1, PORT, 16)))), KERNEL),
                c("ARP request", eth(ETH_ARP, arpRequest()), KERNEL),
                c("ICMP echo", eth(ETH_IPV4, ipv4(ICMP, icmpEcho())), KERNEL),
                c("ICMPv6 echo", eth(ETH_IPV6, ipv6(ICMPV6, icmpEcho())), KERNEL),
                c("IPv6 hop-by-hop then UDP to bound port",
                        eth(ETH_IPV6, ipv6(IPV6_HOPOPTS, ipv6Options(UDP, udp(1, PORT, 16)))), KERNEL),
                c("LLDP", eth(0x88cc, new byte[46]), KERNEL),
                c("Ethernet header only", eth(ETH_IPV4, new byte[0]), KERNEL),
                c("IPv4 UDP to limited port at the limit", v4udp(LIMITED, LIMIT - 42), STEERED),
                c("IPv4 UDP to limited port, one byte over", v4udp(LIMITED, LIMIT - 41), KERNEL),
                c("IPv6 UDP to limited port at the limit", v6udp(LIMITED, LIMIT - 62), STEERED),
                c("IPv6 UDP to limited port, far over", v6udp(LIMITED, 1400), KERNEL));
    }

    /** Entries bound to an address: the frame's destination and family must match. */
    static Stream<Arguments> addressedFrames() {
        List<Arguments> cases = new ArrayList<>(List.of(
                c("IPv4 entry, matching destination", v4udp(V4PORT, 32), STEERED),
                c("IPv4 entry, other destination 10.0.0.3", withByte(v4udp(V4PORT, 32), V4_DST + 3, 3), KERNEL),
                c("IPv4 entry 10.0.0.3, destination 10.0.0.2", v4udp(V4OTHER, 32), KERNEL),
                c("IPv4 entry, multicast destination 239.0.0.2 (unicast MAC)",
                        withByte(v4udp(V4PORT, 32), V4_DST, 239), KERNEL),
                c("IPv4 entry, broadcast destination 10.0.0.255",
                        withByte(v4udp(V4PORT, 32), V4_DST + 3, 255), KERNEL),
                c("IPv4 entry, IPv6 frame", v6udp(V4PORT, 32), KERNEL),
                c("IPv4 entry, IHL 15, matching destination",
                        eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, V4PORT, 8))), STEERED),
                c("IPv4 entry, IHL 15, other destination",
                        withByte(eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, V4PORT, 8))), V4_DST + 3, 9), KERNEL),
                c("IPv4 entry, 802.1Q, matching destination (a VLAN: the kernel's)",
                        ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1, V4PORT, 16))), KERNEL),
                c("IPv4 entry, 802.1Q, other destination",
                        withByte(ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1, V4PORT, 16))), V4_DST + 4 + 3, 3),
                        KERNEL),
                c("IPv4 entry, other port", v4udp(V4PORT + 50, 32), KERNEL),
                c("IPv4 entry, bound address as source, not destination",
                        swapIpv4Addresses(v4udp(V4PORT, 32)), KERNEL),
                c("IPv6 entry, matching destination", v6udp(V6PORT, 32), STEERED),
                c("IPv6 entry fd00::3, destination fd00::2", v6udp(V6OTHER, 32), KERNEL),
                c("IPv6 entry, IPv4 frame", v4udp(V6PORT, 32), KERNEL),
                c("IPv6 entry, 802.1ad, matching destination (a VLAN: the kernel's)",
                        ethVlan(0x88a8, ETH_IPV6, ipv6(UDP, udp(1, V6PORT, 16))), KERNEL),
                c("IPv6 entry, 802.1ad, other destination",
                        withByte(ethVlan(0x88a8, ETH_IPV6, ipv6(UDP, udp(1, V6PORT, 16))), V6_DST + 4, 0xfe),
                        KERNEL),
                c("IPv6 entry, multicast destination ff02::2 (unicast MAC)",
                        withByte(withByte(v6udp(V6PORT, 32), V6_DST, 0xff), V6_DST + 1, 0x02), KERNEL),
                c("IPv4-mapped IPv6 entry, IPv4 frame to that address", v4udp(V4MAPPED, 32), KERNEL),
                c("any-address entry, IPv4", v4udp(PORT, 32), STEERED),
                c("any-address entry, IPv6", v6udp(PORT, 32), STEERED),
                c("any-address entry, IPv4 other local destination", withByte(v4udp(PORT, 32), V4_DST + 3, 3),
                        STEERED),
                c("any-address entry, IPv6 other local destination", withByte(v6udp(PORT, 32), V6_DST + 15, 3),
                        STEERED),
                c("any-address entry, IPv4 destination not local (forwarded)",
                        withByte(v4udp(PORT, 32), V4_DST + 3, 77), KERNEL),
                c("any-address entry, IPv6 destination not local (forwarded)",
                        withByte(v6udp(PORT, 32), V6_DST + 15, 77), KERNEL),
                c("any-address entry, IPv4 subnet broadcast destination",
                        withByte(v4udp(PORT, 32), V4_DST + 3, 255), KERNEL),
                c("any-address entry, IPv4 loopback destination", v4To(PORT, new byte[] {127, 0, 0, 1}), KERNEL),
                c("0.0.0.0 entry, IPv4", v4udp(V4WILDCARD, 32), STEERED),
                c("0.0.0.0 entry, IPv6: another family's", v6udp(V4WILDCARD, 32), KERNEL),
                c(":: entry (V6ONLY), IPv6", v6udp(V6WILDCARD, 32), STEERED),
                c(":: entry (V6ONLY), IPv4: another family's", v4udp(V6WILDCARD, 32), KERNEL),
                c("IPv4 entry with limit, matching, at the limit", v4udp(V4LIMITED, LIMIT - 42), STEERED),
                c("IPv4 entry with limit, matching, one byte over", v4udp(V4LIMITED, LIMIT - 41), KERNEL),
                c("IPv4 entry with limit, other destination",
                        withByte(v4udp(V4LIMITED, 8), V4_DST + 3, 3), KERNEL)));
        // every byte of the address is compared
        for (int i = 0; i < 4; i++) {
            cases.add(c("IPv4 entry, destination byte " + i + " differs",
                    withByte(v4udp(V4PORT, 8), V4_DST + i, v4udp(V4PORT, 8)[V4_DST + i] ^ 0x80), KERNEL));
        }
        for (int i = 0; i < 16; i++) {
            cases.add(c("IPv6 entry, destination byte " + i + " differs",
                    withByte(v6udp(V6PORT, 8), V6_DST + i, v6udp(V6PORT, 8)[V6_DST + i] ^ 0x80), KERNEL));
        }
        // every byte of the MAC is compared
        for (int i = 0; i < 6; i++) {
            cases.add(c("destination MAC byte " + i + " differs",
                    withByte(v4udp(V4PORT, 8), i, MAC[i] ^ 0x40), KERNEL));
        }
        return cases.stream();
    }

    /**
     * Several entries on one port: the exact (port, family, destination) entry first, then the port's
     * wildcard. Which entry took a frame shows through their different frame limits.
     */
    static Stream<Arguments> sharedPortFrames() {
        return Stream.of(
                c("exact IPv4 hit, small", v4udp(MIXED, 8), STEERED),
                c("exact IPv4 hit wins over the limited wildcard, big", v4udp(MIXED, BIG), STEERED),
                c("exact IPv6 hit wins over the limited wildcard, big", v6udp(MIXED, BIG), STEERED),
                c("wildcard hit, IPv4 other destination, small", withByte(v4udp(MIXED, 8), V4_DST + 3, 9), STEERED),
                c("wildcard hit, IPv4 other destination, big (wildcard's limit)",
                        withByte(v4udp(MIXED, BIG), V4_DST + 3, 9), KERNEL),
                c("wildcard hit, IPv6 other destination, small", withByte(v6udp(MIXED, 8), V6_DST + 15, 9), STEERED),
                c("wildcard hit, IPv6 other destination, big (wildcard's limit)",
                        withByte(v6udp(MIXED, BIG), V6_DST + 15, 9), KERNEL),
                c("exact entry over its limit does not fall through to the wildcard",
                        v4udp(MIXED_LIMITED_EXACT, BIG), KERNEL),
                c("exact entry within its limit", v4udp(MIXED_LIMITED_EXACT, 8), STEERED),
                c("unlimited wildcard takes another destination, big",
                        withByte(v4udp(MIXED_LIMITED_EXACT, BIG), V4_DST + 3, 9), STEERED),
                c("unlimited wildcard takes IPv6, big", v6udp(MIXED_LIMITED_EXACT, BIG), STEERED),
                c("wildcard, IPv4 destination not local", withByte(v4udp(MIXED, 8), V4_DST + 3, 77), KERNEL),
                c("two IPv4 addresses, 10.0.0.2 (no limit), big", v4udp(SHARED, BIG), STEERED),
                c("two IPv4 addresses, 10.0.0.3 (limited), small", withByte(v4udp(SHARED, 8), V4_DST + 3, 3), STEERED),
                c("two IPv4 addresses, 10.0.0.3 (limited), big", withByte(v4udp(SHARED, BIG), V4_DST + 3, 3), KERNEL),
                c("two IPv4 addresses, 10.0.0.4 (neither, no wildcard)",
                        withByte(v4udp(SHARED, 8), V4_DST + 3, 4), KERNEL),
                c("two IPv6 addresses, fd00::2 (no limit), big", v6udp(SHARED, BIG), STEERED),
                c("two IPv6 addresses, fd00::3 (limited), small", withByte(v6udp(SHARED, 8), V6_DST + 15, 3), STEERED),
                c("two IPv6 addresses, fd00::3 (limited), big", withByte(v6udp(SHARED, BIG), V6_DST + 15, 3), KERNEL),
                c("two IPv6 addresses, fd00::4 (neither, no wildcard)",
                        withByte(v6udp(SHARED, 8), V6_DST + 15, 4), KERNEL),
                c("shared port, 802.1Q IPv4 to 10.0.0.3 (a VLAN: the kernel's)",
                        withByte(ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1, SHARED, 8))), V4_DST + 4 + 3, 3),
                        KERNEL),
                c("shared port, 802.1ad IPv6 to fd00::4",
                        withByte(ethVlan(0x88a8, ETH_IPV6, ipv6(UDP, udp(1, SHARED, 8))), V6_DST + 4 + 15, 4),
                        KERNEL),
                c("IPv4 address in an IPv6 frame's first bytes is no IPv4 match",
                        v6With(SHARED, new byte[] {10, 0, 0, 2}), KERNEL),
                c("shared port, IHL 15 IPv4 to 10.0.0.3, big",
                        withByte(eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, SHARED, BIG))), V4_DST + 3, 3), KERNEL),
                c("shared port, IHL 15 IPv4 to 10.0.0.2, big",
                        eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, SHARED, BIG))), STEERED));
    }

    /** An IPv4 UDP frame to {@code port} at {@code destination}. */
    static byte[] v4To(int port, byte[] destination) {
        byte[] f = v4udp(port, 8);
        System.arraycopy(destination, 0, f, V4_DST, 4);
        return f;
    }

    /** An IPv6 UDP frame to {@code port} whose destination starts with {@code prefix} and is zero after. */
    static byte[] v6With(int port, byte[] prefix) {
        byte[] f = v6udp(port, 8);
        Arrays.fill(f, V6_DST, V6_DST + 16, (byte) 0);
        System.arraycopy(prefix, 0, f, V6_DST, prefix.length);
        return f;
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("sharedPortFrames")
    void steersSharedPortsExactBeforeWildcard(String name, byte[] frame, XdpAction expected) throws Exception {
        assertEquals(expected, run(frame), name);
    }

    @Test
    void removingOneAddressOfAPortKeepsTheOthers() throws Exception {
        InetAddress a = InetAddress.getByName("10.0.0.2");
        InetAddress b = InetAddress.getByName("10.0.0.3");
        byte[] toA = v4udp(9501, 8);
        byte[] toB = withByte(v4udp(9501, 8), V4_DST + 3, 3);
        ports.put(9501, a, 0, 0);
        ports.put(9501, b, 1, 0);
        try {
            assertEquals(STEERED, run(toA));
            assertEquals(STEERED, run(toB));
            ports.remove(9501, a);
            assertEquals(KERNEL, run(toA));
            assertEquals(STEERED, run(toB));
            wildcards(ports, 9501, 2, 0);
            assertEquals(STEERED, run(toA), "now the wildcard's");
            ports.remove(9501, b);
            removeWildcards(ports, 9501);
            assertEquals(KERNEL, run(toA));
            assertEquals(KERNEL, run(toB));
        } finally {
            ports.remove(9501, a);
            ports.remove(9501, b);
            removeWildcards(ports, 9501);
        }
    }

    @Test
    void wildcardFollowsTheLocalAddressMap() throws Exception {
        InetAddress c = InetAddress.getByName("10.0.0.3");
        byte[] toC = withByte(v4udp(PORT, 8), V4_DST + 3, 3);
        assertEquals(STEERED, run(toC));
        try {
            assertTrue(locals.remove(c));
            assertEquals(KERNEL, run(toC), "no longer a local address: the kernel's");
            assertEquals(STEERED, run(v4udp(PORT, 8)), "other addresses stay");
        } finally {
            locals.add(c);
        }
        assertTrue(locals.contains(c));
        assertEquals(STEERED, run(toC));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("addressedFrames")
    void steersByAddress(String name, byte[] frame, XdpAction expected) throws Exception {
        assertEquals(expected, run(frame), name);
    }

    /** The frame with its IPv4 source and destination exchanged (untagged, IHL 5). */
    static byte[] swapIpv4Addresses(byte[] frame) {
        byte[] f = frame.clone();
        System.arraycopy(frame, V4_DST - 4, f, V4_DST, 4);
        System.arraycopy(frame, V4_DST, f, V4_DST - 4, 4);
        return f;
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("frames")
    void steers(String name, byte[] frame, XdpAction expected) throws Exception {
        assertEquals(expected, run(frame), name);
    }

    /** Frames whose headers end exactly at the frame's end and that are steered when complete. */
    static Stream<Arguments> fullFrames() {
        return Stream.of(
                Arguments.of("IPv4 UDP", v4udp(PORT, 0)),
                Arguments.of("IPv6 UDP", v6udp(PORT, 0)),
                Arguments.of("IPv4 IHL 6 UDP", eth(ETH_IPV4, ipv4(UDP, 6, 0, udp(1, PORT, 0)))),
                Arguments.of("IPv4 IHL 15 UDP", eth(ETH_IPV4, ipv4(UDP, 15, 0, udp(1, PORT, 0)))),
                Arguments.of("IPv4 UDP, IPv4 entry", v4udp(V4PORT, 0)),
                Arguments.of("IPv6 UDP, IPv6 entry", v6udp(V6PORT, 0)),
                Arguments.of("IPv4 IHL 6 UDP, IPv4 entry", eth(ETH_IPV4, ipv4(UDP, 6, 0, udp(1, V4PORT, 0)))),
                Arguments.of("IPv4 UDP, shared port, wildcard entry", withByte(v4udp(MIXED, 0), V4_DST + 3, 9)),
                Arguments.of("IPv6 UDP, shared port, second address", withByte(v6udp(SHARED, 0), V6_DST + 15, 3)));
    }

    @ParameterizedTest(name = "{0} truncated at every length")
    @MethodSource("fullFrames")
    void truncatedFramesPass(String name, byte[] full) throws Exception {
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            if (len < 14) {
                // The kernel's test harness refuses frames without a full Ethernet header (no device
                // could deliver one to XDP either).
                BpfException e = assertThrows(BpfException.class, () -> run(cut), name + " len " + len);
                assertEquals(Errno.EINVAL, e.errno());
            } else {
                assertEquals(KERNEL, run(cut), name + " truncated to " + len + " of " + full.length);
            }
        }
        assertEquals(STEERED, run(full), name + " complete");
        assertEquals(STEERED, run(Arrays.copyOf(full, full.length + 1)), name + " plus trailer");
    }

    @Test
    void productionFallbackPassesWhenNoSocketIsSet() throws Exception {
        try (BpfProgram prod = UdpSteeringProgram.load(ports, locals, xsks, 1, MAC)) {
            assertEquals(XdpAction.PASS, ProgTestRun.run(prod, v4udp(PORT, 32)).action());
        }
    }

    @Test
    void removedPortIsNoLongerSteered() throws Exception {
        ports.put(9500, ANY4, 2, 0);
        assertEquals(STEERED, run(v4udp(9500, 8)));
        ports.remove(9500, ANY4);
        assertEquals(KERNEL, run(v4udp(9500, 8)));
    }

    @Test
    void multiBufferFramesUseTheirTotalLength() throws Exception {
        try (PortMap p = PortMap.create("nx_t_ports_mb", 8);
             XskMap x = XskMap.create("nx_t_xsks_mb", 8);
             BpfProgram frags = UdpSteeringProgram.load(p, locals, x, 1, MAC, XdpAction.DROP, true)) {
            p.put(1000, ANY4, 0, 0);
            p.put(1001, ANY4, 0, 4000);
            p.put(1002, ANY4, 0, 6000);
            // 6000 bytes: larger than one page, so BPF_PROG_TEST_RUN builds a multi-buffer frame
            int payload = 6000 - 14 - 20 - 8;
            assertEquals(STEERED, ProgTestRun.run(frags, v4udp(1000, payload)).action(), "no limit");
            assertEquals(KERNEL, ProgTestRun.run(frags, v4udp(1001, payload)).action(), "limit 4000");
            assertEquals(STEERED, ProgTestRun.run(frags, v4udp(1002, payload)).action(), "limit 6000");
            assertEquals(KERNEL, ProgTestRun.run(frags, v4udp(1002, payload + 1)).action(), "6001 over limit 6000");
        }
    }

    @Test
    void queuesAtOrBeyondNumQueuesPass() throws Exception {
        int ifindex = Syscalls.ifNameToIndex(HOSTS.vethPair(4).hostIf());
        try (BpfProgram two = UdpSteeringProgram.load(ports, locals, xsks, 2, MAC, XdpAction.DROP, false);
             BpfProgram four = UdpSteeringProgram.load(ports, locals, xsks, 4, MAC, XdpAction.DROP, false)) {
            byte[] frame = v4udp(PORT, 16);
            IntStream.range(0, 4).forEach(q -> {
                try {
                    assertEquals(q < 2 ? STEERED : KERNEL, ProgTestRun.run(two, frame, 1, ifindex, q).action(),
                            "numQueues 2, queue " + q);
                    assertEquals(STEERED, ProgTestRun.run(four, frame, 1, ifindex, q).action(), "numQueues 4, queue " + q);
                } catch (BpfException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    @Test
    void xskIndexLayout() {
        assertEquals(0, UdpSteeringProgram.xskIndex(0, 0, 4));
        assertEquals(7, UdpSteeringProgram.xskIndex(1, 3, 4));
        assertEquals(10, UdpSteeringProgram.xskIndex(5, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> UdpSteeringProgram.xskIndex(0, 4, 4));
    }
}
