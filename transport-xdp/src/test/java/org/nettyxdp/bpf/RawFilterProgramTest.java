package org.nettyxdp.bpf;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nettyxdp.testing.Frames.ETH_ARP;
import static org.nettyxdp.testing.Frames.ETH_IPV4;
import static org.nettyxdp.testing.Frames.ETH_IPV6;
import static org.nettyxdp.testing.Frames.IPV6_HOPOPTS;
import static org.nettyxdp.testing.Frames.ICMP;
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
 * Each raw-filter matcher, and combinations, run by the kernel ({@code BPF_PROG_TEST_RUN}) against
 * one table of frames. The program is loaded with fallback {@code XDP_DROP} over an empty XSKMAP, so a
 * frame the filter takes comes back DROP and one it leaves to the kernel PASS. Then the steering
 * program's tail call: datagram ports first, raw filters next, the kernel last.
 */
class RawFilterProgramTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final org.nettyxdp.testing.TestHosts HOSTS = new org.nettyxdp.testing.TestHosts();

    /** Sources 10.0.0.1 / fd00::1, destinations 10.0.0.2 / fd00::2 (see {@link Frames}). */
    static final Map<String, byte[]> FRAMES = new LinkedHashMap<>();

    static {
        FRAMES.put("arp", eth(ETH_ARP, arpRequest()));
        FRAMES.put("udp4", eth(ETH_IPV4, ipv4(UDP, udp(1234, 53, 4))));
        FRAMES.put("tcp4", eth(ETH_IPV4, ipv4(TCP, tcp(40000, 80))));
        FRAMES.put("icmp4", eth(ETH_IPV4, ipv4(ICMP, icmpEcho())));
        FRAMES.put("udp4opts", eth(ETH_IPV4, ipv4(UDP, 7, 0, udp(1234, 53, 4))));
        FRAMES.put("udp4frag", eth(ETH_IPV4, ipv4(UDP, 5, 0x0010, udp(1234, 53, 4))));
        FRAMES.put("udp4short", eth(ETH_IPV4, ipv4(UDP, new byte[] {0x04, (byte) 0xd2})));
        FRAMES.put("udp6", eth(ETH_IPV6, ipv6(UDP, udp(1234, 53, 4))));
        FRAMES.put("tcp6", eth(ETH_IPV6, ipv6(TCP, tcp(40000, 443))));
        FRAMES.put("udp6hbh", eth(ETH_IPV6, ipv6(IPV6_HOPOPTS, ipv6Options(UDP, udp(1234, 53, 4)))));
        FRAMES.put("vlan42udp4", ethVlan(0x8100, ETH_IPV4, ipv4(UDP, udp(1234, 53, 4))));
        FRAMES.put("qinq42tcp6", ethVlan(0x88a8, ETH_IPV6, ipv6(TCP, tcp(40000, 443))));
        FRAMES.put("runtIp4", eth(ETH_IPV4, new byte[6]));
        FRAMES.put("runtVlan", eth(0x8100, new byte[2]));
        FRAMES.put("badVersion", eth(ETH_IPV4, withByte(ipv4(UDP, udp(1234, 53, 4)), 0, 0x65)));
    }

    static Arguments c(FrameMatch m, String... matched) {
        return Arguments.of(m.toString(), m, new TreeSet<>(List.of(matched)));
    }

    static FrameMatch v4(boolean source, String addr, int len) throws Exception {
        return new FrameMatch.IpPrefix(source, InetAddress.getByName(addr).getAddress(), len);
    }

    static Stream<Arguments> table() throws Exception {
        String[] all = FRAMES.keySet().toArray(String[]::new);
        FrameMatch udp53 = new FrameMatch.Port(17, false, 53, 53);
        return Stream.of(
                c(new FrameMatch.All(), all),
                c(new FrameMatch.EtherType(0x0806), "arp"),
                c(new FrameMatch.EtherType(0x0800), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short",
                        "vlan42udp4", "runtIp4", "badVersion"),
                c(new FrameMatch.EtherType(0x86dd), "udp6", "tcp6", "udp6hbh", "qinq42tcp6"),
                c(new FrameMatch.Vlan(42), "vlan42udp4", "qinq42tcp6"),
                c(new FrameMatch.Vlan(43)),
                c(new FrameMatch.IpProtocol(17), "udp4", "udp4opts", "udp4frag", "udp4short", "udp6", "vlan42udp4"),
                c(new FrameMatch.IpProtocol(6), "tcp4", "tcp6", "qinq42tcp6"),
                c(new FrameMatch.IpProtocol(1), "icmp4"),
                c(new FrameMatch.IpProtocol(0), "udp6hbh"),
                c(v4(true, "10.0.0.1", 32), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short", "vlan42udp4"),
                c(v4(true, "10.0.0.2", 32)),
                c(v4(false, "10.0.0.2", 32), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short",
                        "vlan42udp4"),
                c(v4(false, "10.255.0.0", 8), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short",
                        "vlan42udp4"),
                c(v4(false, "10.0.0.3", 31), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short",
                        "vlan42udp4"),
                c(v4(false, "10.0.0.0", 31)),
                c(v4(false, "0.0.0.0", 0), "udp4", "tcp4", "icmp4", "udp4opts", "udp4frag", "udp4short", "vlan42udp4"),
                c(v4(true, "fd00::1", 128), "udp6", "tcp6", "udp6hbh", "qinq42tcp6"),
                c(v4(false, "fd00::1", 128)),
                c(v4(false, "fd00::ffff", 112), "udp6", "tcp6", "udp6hbh", "qinq42tcp6"),
                c(v4(false, "fd01::", 16)),
                c(v4(false, "fc00::", 7), "udp6", "tcp6", "udp6hbh", "qinq42tcp6"),
                c(udp53, "udp4", "udp4opts", "udp6", "vlan42udp4"),
                c(new FrameMatch.Port(17, true, 1234, 1234), "udp4", "udp4opts", "udp6", "vlan42udp4"),
                c(new FrameMatch.Port(17, false, 1, 52)),
                c(new FrameMatch.Port(6, false, 80, 443), "tcp4", "tcp6", "qinq42tcp6"),
                c(new FrameMatch.Port(6, false, 81, 443), "tcp6", "qinq42tcp6"),
                c(new FrameMatch.Port(6, true, 40000, 40000), "tcp4", "tcp6", "qinq42tcp6"),
                c(new FrameMatch.Port(6, false, 53, 53)),
                c(new FrameMatch.And(List.of(udp53, new FrameMatch.EtherType(0x86dd))), "udp6"),
                c(new FrameMatch.And(List.of(udp53, new FrameMatch.Vlan(42))), "vlan42udp4"),
                c(new FrameMatch.Or(List.of(new FrameMatch.EtherType(0x0806), new FrameMatch.IpProtocol(1))),
                        "arp", "icmp4"),
                c(new FrameMatch.Not(new FrameMatch.EtherType(0x0800)), "arp", "udp6", "tcp6", "udp6hbh",
                        "qinq42tcp6", "runtVlan"),
                c(new FrameMatch.And(List.of(new FrameMatch.Or(List.of(udp53, new FrameMatch.Port(6, false, 443, 443))),
                        new FrameMatch.Not(new FrameMatch.Vlan(42)))), "udp4", "udp4opts", "udp6", "tcp6"),
                c(new FrameMatch.And(List.of()), all),
                c(new FrameMatch.Or(List.of())));
    }

    static BpfProgram load(FrameMatch m) throws BpfException {
        return RawFilterProgram.load(List.of(new RawFilterProgram.Entry(0, m, -1L)), xsks, 1, XdpAction.DROP, false);
    }

    static XskMap xsks;

    @BeforeAll
    static void maps() throws Exception {
        org.nettyxdp.testing.TestHosts.assumeRoot("bpf(2) (CAP_BPF + CAP_NET_ADMIN)");
        xsks = XskMap.create("nx_t_rawxsks", 8);
    }

    @AfterAll
    static void close() {
        if (xsks != null) {
            xsks.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void matcherAgainstFrameTable(String name, FrameMatch m, Set<String> expected) throws Exception {
        try (BpfProgram p = load(m)) {
            Set<String> matched = new TreeSet<>();
            for (var e : FRAMES.entrySet()) {
                XdpAction verdict = ProgTestRun.run(p, e.getValue()).action();
                if (verdict == XdpAction.DROP) {
                    matched.add(e.getKey());
                } else {
                    assertEquals(XdpAction.PASS, verdict, e.getKey());
                }
            }
            assertEquals(expected, matched, name);
        }
    }

    @Test
    void firstMatchingChannelWinsAndQueueMaskIsHonoured() throws Exception {
        // channel 0 takes UDP on queue 1 only, channel 1 takes UDP and ARP on every queue; fallback TX for
        // channel 0's index and DROP for channel 1's cannot be told apart by BPF_PROG_TEST_RUN (both
        // empty), so two programs differ only in their fallback: TX says "channel 0 took it"
        {
            org.nettyxdp.testing.VethPair pair = HOSTS.vethPair(2);
            int ifindex = org.nettyxdp.sys.Syscalls.ifNameToIndex(pair.hostIf());
            FrameMatch udp = new FrameMatch.IpProtocol(17);
            List<RawFilterProgram.Entry> first = List.of(new RawFilterProgram.Entry(0, udp, 0b10));
            List<RawFilterProgram.Entry> both = List.of(new RawFilterProgram.Entry(0, udp, 0b10),
                    new RawFilterProgram.Entry(1, new FrameMatch.Or(List.of(udp, new FrameMatch.EtherType(0x0806))),
                            -1L));
            try (BpfProgram onlyFirst = RawFilterProgram.load(first, xsks, 2, XdpAction.TX, false);
                 BpfProgram p = RawFilterProgram.load(both, xsks, 2, XdpAction.DROP, false)) {
                byte[] udp4 = FRAMES.get("udp4");
                assertEquals(XdpAction.PASS, ProgTestRun.run(onlyFirst, udp4, 1, ifindex, 0).action(), "queue 0: not channel 0's");
                assertEquals(XdpAction.TX, ProgTestRun.run(onlyFirst, udp4, 1, ifindex, 1).action(), "queue 1: channel 0's");
                assertEquals(XdpAction.DROP, ProgTestRun.run(p, udp4, 1, ifindex, 0).action(), "queue 0: falls to channel 1");
                assertEquals(XdpAction.DROP, ProgTestRun.run(p, FRAMES.get("arp"), 1, ifindex, 1).action());
                assertEquals(XdpAction.PASS, ProgTestRun.run(p, FRAMES.get("tcp4"), 1, ifindex, 1).action());
            }
        }
    }

    @Test
    void steeringTailCallsRawFiltersForWhatItDoesNotSteer() throws Exception {
        byte[] mac = {0x02, 0, 0, 0, 0, 0x01}; // the destination MAC of every Frames frame
        try (PortMap ports = PortMap.create("nx_t_tports", 8);
             LocalAddressMap locals = LocalAddressMap.create("nx_t_tlocals", 8);
             XskMap dgram = XskMap.create("nx_t_txsks", 8);
             BpfMap progs = BpfMap.create(BpfCommand.MAP_TYPE_PROG_ARRAY, "nx_t_tprogs", 4, 4, 1, 0);
             BpfProgram steer = UdpSteeringProgram.load(ports, locals, dgram, progs, 1, mac, XdpAction.DROP, false)) {
            locals.add(InetAddress.getByName("10.0.0.2"));
            ports.put(53, InetAddress.getByName("0.0.0.0"), 0, 0);
            byte[] dns = FRAMES.get("udp4");
            byte[] other = eth(ETH_IPV4, ipv4(UDP, udp(1234, 5353, 4)));
            // no raw program: steered datagram DROP (fallback), the rest PASS
            assertEquals(XdpAction.DROP, ProgTestRun.run(steer, dns).action());
            assertEquals(XdpAction.PASS, ProgTestRun.run(steer, other).action());
            assertEquals(XdpAction.PASS, ProgTestRun.run(steer, FRAMES.get("arp")).action());
            // a raw program taking all UDP (fallback TX, to tell it from the datagram verdict)
            try (BpfProgram raw = RawFilterProgram.load(List.of(new RawFilterProgram.Entry(0,
                    new FrameMatch.IpProtocol(17), -1L)), xsks, 1, XdpAction.TX, false);
                 Arena arena = Arena.ofConfined()) {
                progs.update(arena.allocateFrom(JAVA_INT, 0), arena.allocateFrom(JAVA_INT, raw.fd()),
                        BpfCommand.BPF_ANY);
                assertEquals(XdpAction.DROP, ProgTestRun.run(steer, dns).action(), "the datagram port wins");
                assertEquals(XdpAction.TX, ProgTestRun.run(steer, other).action(), "other UDP goes to the raw channel");
                assertEquals(XdpAction.PASS, ProgTestRun.run(steer, FRAMES.get("arp")).action(), "the rest to the kernel");
                byte[] broadcast = withByte(other, 0, 0xff);
                assertEquals(XdpAction.TX, ProgTestRun.run(steer, broadcast).action(), "group MACs reach raw filters");
                progs.delete(arena.allocateFrom(JAVA_INT, 0));
                assertEquals(XdpAction.PASS, ProgTestRun.run(steer, other).action(), "emptied slot: the kernel again");
            }
        }
    }

    @Test
    void hostileFramesNeverCrashTheProgram() throws Exception {
        FrameMatch every = new FrameMatch.And(List.of(new FrameMatch.Or(List.of(
                new FrameMatch.Port(17, false, 0, 65535), new FrameMatch.Port(6, true, 0, 65535))),
                new FrameMatch.Not(new FrameMatch.IpPrefix(true, new byte[16], 1))));
        java.util.Random random = new java.util.Random(17);
        try (BpfProgram p = load(every)) {
            for (int i = 0; i < 2000; i++) {
                byte[] f = new byte[14 + random.nextInt(120)];
                random.nextBytes(f);
                if (i % 3 == 0) {
                    f[12] = (byte) (i % 2 == 0 ? 0x08 : 0x86);
                    f[13] = (byte) (i % 2 == 0 ? 0x00 : 0xdd);
                }
                XdpAction a = ProgTestRun.run(p, f).action();
                org.junit.jupiter.api.Assertions.assertTrue(a == XdpAction.PASS || a == XdpAction.DROP, a.toString());
            }
        }
    }

    static byte[] withByte(byte[] frame, int index, int value) {
        byte[] f = frame.clone();
        f[index] = (byte) value;
        return f;
    }
}
