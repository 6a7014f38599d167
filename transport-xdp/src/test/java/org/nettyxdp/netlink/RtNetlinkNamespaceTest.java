package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.net.InetAddress;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.testing.NetNsLink;
import org.nettyxdp.testing.TestHosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Against the real kernel, inside two private namespaces joined by a veth pair (see {@link NetNsLink};
 * ns1 also gets two gateway routes), each answer compared with what {@code ip} prints. Needs root.
 */
class RtNetlinkNamespaceTest {
    private static final Pattern LINK = Pattern.compile(
            "^(\\d+): ([^:@\\s]+)(?:@\\S+)?: <[^>]*> mtu (\\d+).*?link/\\S+ ([0-9a-f:]+).*?numtxqueues (\\d+) numrxqueues (\\d+)");
    private static final Pattern ADDR = Pattern.compile(
            "^(\\d+):\\s+\\S+\\s+inet6?\\s+([0-9a-f.:]+)/(\\d+)\\s.*?scope (\\S+)");

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static NetNsLink host;
    private static String viaNet4;
    private static String viaNet6;
    private static RtNetlink nl;
    private static int veth1;

    @BeforeAll
    static void setUp() throws Exception {
        host = HOSTS.linkedNamespaces(4, 3);
        viaNet4 = "10.88." + host.subnet() + ".0/24";
        viaNet6 = "fd00:88:" + Integer.toHexString(host.subnet()) + "::/64";
        ip1("route", "add", viaNet4, "via", host.ip2(), "dev", host.veth1());
        ip1("-6", "route", "add", viaNet6, "via", host.ip6b(), "dev", host.veth1());
        nl = host.ns1().call(RtNetlink::new); // the socket belongs to the namespace of its creating thread
        veth1 = nl.link(host.veth1()).index();
    }

    @AfterAll
    static void tearDown() {
        if (nl != null) {
            nl.close();
        }
    }

    /** {@code ip ARGS} in ns1. */
    private static String ip1(String... args) {
        return host.ns1().exec("ip " + String.join(" ", args));
    }

    private static InetAddress addr(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void linksMatchIp() throws Exception {
        Set<String> expected = new TreeSet<>();
        for (String line : ip1("-o", "-d", "link", "show").split("\n")) {
            Matcher m = LINK.matcher(line);
            assertTrue(m.find(), "unparsed: " + line);
            expected.add(m.group(1) + " " + m.group(2) + " mtu " + m.group(3) + " " + m.group(4)
                    + " tx " + m.group(5) + " rx " + m.group(6));
        }
        Set<String> actual = new TreeSet<>();
        for (LinkInfo l : nl.links()) {
            actual.add(l.index() + " " + l.name() + " mtu " + l.mtu() + " " + l.mac()
                    + " tx " + l.numTxQueues() + " rx " + l.numRxQueues());
        }
        assertEquals(expected, actual);
        assertEquals(2, actual.size(), "lo and the veth");
    }

    @Test
    void vethDetails() throws Exception {
        LinkInfo v = nl.link(host.veth1());
        assertEquals(v.index(), nl.link(v.index()).index());
        assertEquals(v.mac(), nl.link(v.index()).mac());
        assertEquals("veth", v.kind());
        assertEquals(4, v.numRxQueues());
        assertEquals(3, v.numTxQueues());
        assertEquals(1500, v.mtu());
        assertTrue(v.isUp() && v.isEthernet() && !v.isLoopback(), v.toString());
        assertFalse(v.xdp().isAttached());
        String ipMac = ip1("link", "show", host.veth1()).replaceAll("(?s).*link/ether ([0-9a-f:]+).*", "$1").strip();
        assertEquals(MacAddress.parse(ipMac), v.mac());
        // the peer lives in ns2: not visible here
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.link(host.veth2()));
        assertEquals(Errno.ENODEV, e.errno());
        assertTrue(e.getMessage().contains("no such interface: " + host.veth2()), e.getMessage());
    }

    @Test
    void addressesMatchIp() throws Exception {
        Set<String> expected = new TreeSet<>();
        for (String line : ip1("-o", "addr", "show").split("\n")) {
            Matcher m = ADDR.matcher(line);
            assertTrue(m.find(), "unparsed: " + line);
            int scope = switch (m.group(4)) {
                case "global" -> AddressInfo.SCOPE_UNIVERSE;
                case "link" -> AddressInfo.SCOPE_LINK;
                case "host" -> AddressInfo.SCOPE_HOST;
                default -> Integer.parseInt(m.group(4));
            };
            expected.add(m.group(1) + " " + HexFormat.of().formatHex(addr(m.group(2)).getAddress()) + "/" + m.group(3)
                    + " scope " + scope);
        }
        Set<String> actual = new TreeSet<>();
        for (AddressInfo a : nl.addresses()) {
            actual.add(a.ifindex() + " " + HexFormat.of().formatHex(a.address().getAddress()) + "/" + a.prefixLength()
                    + " scope " + a.scope());
        }
        assertEquals(expected, actual);
        assertTrue(actual.size() >= 4, "127.0.0.1, ::1, the IPv4 and IPv6 addresses of the veth: " + actual);

        assertTrue(nl.addresses(veth1).stream().allMatch(a -> a.ifindex() == veth1));
        AddressInfo v6 = nl.addresses(veth1).stream().filter(a -> a.address().equals(uncheckedAddr(host.ip6a())))
                .findFirst().orElseThrow();
        assertEquals(64, v6.prefixLength());
        assertTrue((v6.flags() & AddressInfo.IFA_F_NODAD) != 0, "added with nodad");
        assertFalse(v6.isTentative());
    }

    private static InetAddress uncheckedAddr(String s) {
        try {
            return addr(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void interfaceOwning() throws Exception {
        assertEquals(veth1, nl.interfaceOwning(addr(host.ip1())).orElseThrow());
        assertEquals(veth1, nl.interfaceOwning(addr(host.ip6a())).orElseThrow());
        assertEquals(1, nl.interfaceOwning(addr("127.0.0.1")).orElseThrow());
        assertTrue(nl.interfaceOwning(addr(host.ip2())).isEmpty(), "the peer's address is in ns2");
        assertTrue(nl.interfaceOwning(addr("10.77.0.254")).isEmpty());
    }

    /** Compares with the first line of {@code ip route get}: type, via, dev, src. */
    private static void assertRouteMatchesIp(String dst, Route r) throws Exception {
        String line = ip1("route", "get", dst).lines().findFirst().orElseThrow();
        String[] t = line.trim().split("\\s+");
        String type = Set.of("local", "broadcast", "multicast", "unreachable", "blackhole", "prohibit", "anycast")
                .contains(t[0]) ? t[0] : "unicast";
        String expectedType = switch (r.type()) {
            case Route.RTN_UNICAST -> "unicast";
            case Route.RTN_LOCAL -> "local";
            case Route.RTN_BROADCAST -> "broadcast";
            case Route.RTN_MULTICAST -> "multicast";
            default -> "type " + r.type();
        };
        assertEquals(type, expectedType, line);
        assertEquals(word(t, "dev"), nl.link(r.oif()).name(), line);
        assertEquals(word(t, "via") == null ? null : addr(word(t, "via")), r.gateway(), line);
        assertEquals(word(t, "src") == null ? null : addr(word(t, "src")), r.preferredSource(), line);
    }

    private static String word(String[] t, String key) {
        for (int i = 0; i + 1 < t.length; i++) {
            if (t[i].equals(key)) {
                return t[i + 1];
            }
        }
        return null;
    }

    @Test
    void routeOnLink() throws Exception {
        Route r = nl.route(addr(host.ip2()));
        assertTrue(r.isUnicast(), r.toString());
        assertEquals(veth1, r.oif());
        assertNull(r.gateway());
        assertEquals(addr(host.ip2()), r.nextHop());
        assertEquals(addr(host.ip1()), r.preferredSource());
        assertEquals(Route.TABLE_MAIN, r.table());
        assertRouteMatchesIp(host.ip2(), r);

        Route r6 = nl.route(addr(host.ip6b()));
        assertTrue(r6.isUnicast(), r6.toString());
        assertEquals(veth1, r6.oif());
        assertNull(r6.gateway());
        assertEquals(addr(host.ip6a()), r6.preferredSource());
        assertRouteMatchesIp(host.ip6b(), r6);
    }

    @Test
    void routeViaGateway() throws Exception {
        String dst4 = viaNet4.replace(".0/24", ".5");
        Route r = nl.route(addr(dst4));
        assertEquals(addr(host.ip2()), r.gateway());
        assertEquals(addr(host.ip2()), r.nextHop());
        assertEquals(veth1, r.oif());
        assertRouteMatchesIp(dst4, r);

        String dst6 = viaNet6.replace("::/64", "::5");
        Route r6 = nl.route(addr(dst6));
        assertEquals(addr(host.ip6b()), r6.gateway());
        assertEquals(addr(dst6), r6.destination());
        assertRouteMatchesIp(dst6, r6);
    }

    @Test
    void routeToOwnAddressIsLocalViaLoopback() throws Exception {
        for (String own : new String[] {host.ip1(), host.ip6a(), "127.0.0.1"}) {
            Route r = nl.route(addr(own));
            assertTrue(r.isLocal(), r.toString());
            assertEquals(1, r.oif(), "local routes go out of lo");
            assertRouteMatchesIp(own, r);
        }
    }

    @Test
    void noRouteIsAnError() throws Exception {
        assertThrows(Exception.class, () -> ip1("route", "get", "10.99.0.1"), "ns1 has no default route");
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.route(addr("10.99.0.1")));
        assertEquals(Errno.ENETUNREACH, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("ENETUNREACH") && e.getMessage().contains("10.99.0.1"), e.getMessage());
        NetlinkException e6 = assertThrows(NetlinkException.class, () -> nl.route(addr("fd00:99::1")));
        assertEquals(Errno.ENETUNREACH, e6.errno(), e6.getMessage());
    }

    @Test
    void routeRestrictedToOutputInterface() throws Exception {
        Route r = nl.route(addr(host.ip2()), veth1);
        assertEquals(veth1, r.oif());
    }

    @Test
    void staticNeighbour() throws Exception {
        String ip = "10.77." + host.subnet() + ".50";
        ip1("neigh", "add", ip, "lladdr", "02:00:00:00:00:50", "dev", host.veth1(), "nud", "permanent");
        try {
            Neighbour n = nl.neighbour(veth1, addr(ip)).orElseThrow();
            assertEquals(MacAddress.parse("02:00:00:00:00:50"), n.mac());
            assertEquals(Neighbour.NUD_PERMANENT, n.state());
            assertEquals("PERMANENT", n.stateName());
            assertTrue(n.isValid());
            assertFalse(n.isReachableOrStale());
            assertTrue(nl.neighbours(veth1).contains(n));
            assertTrue(nl.neighbours(0).contains(n));
            assertTrue(nl.neighbours(1).stream().noneMatch(x -> x.ifindex() != 1));
        } finally {
            ip1("neigh", "del", ip, "dev", host.veth1());
        }
        assertEquals(Optional.empty(), nl.neighbour(veth1, addr(ip)));
    }

    @Test
    void unknownNeighbourIsEmpty() throws Exception {
        assertEquals(Optional.empty(), nl.neighbour(veth1, addr("10.77." + host.subnet() + ".77")));
        assertEquals(Optional.empty(), nl.neighbour(veth1, addr("fd00:77:ffff::77")));
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.neighbour(4242, addr(host.ip2())));
        assertEquals(Errno.ENODEV, e.errno());
    }

    /** The kernel resolves the peer when something sends to it; we then see what {@code ip neigh} sees. */
    @Test
    void resolvedNeighbourMatchesIpNeigh() throws Exception {
        MacAddress peerMac;
        try (RtNetlink nl2 = host.ns2().call(RtNetlink::new)) {
            peerMac = nl2.link(host.veth2()).mac();
        }
        for (String peer : new String[] {host.ip2(), host.ip6b()}) {
            host.ns1().call(() -> { // a datagram to the peer makes the kernel resolve it
                try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
                    s.send(new java.net.DatagramPacket("hello\n".getBytes(), 6, addr(peer), 9));
                }
                return null;
            });
            Neighbour n = null;
            for (int i = 0; i < 200; i++) {
                n = nl.neighbour(veth1, addr(peer)).orElse(null);
                if (n != null && n.isValid()) {
                    break;
                }
                Thread.sleep(10);
            }
            assertTrue(n != null && n.isValid(), "not resolved: " + n);
            assertTrue(n.isReachableOrStale() || (n.state() & (Neighbour.NUD_DELAY | Neighbour.NUD_PROBE)) != 0,
                    n.toString());
            assertEquals(peerMac, n.mac());
            assertEquals(veth1, n.ifindex());
            String line = ip1("neigh", "show", peer, "dev", host.veth1()).strip();
            assertTrue(line.contains("lladdr " + peerMac), line);
            assertTrue(line.endsWith(n.stateName()) || line.contains(" " + n.stateName().split("\\|")[0]),
                    line + " vs " + n.stateName());
            assertTrue(nl.neighbours(veth1).stream().anyMatch(x -> x.address().equals(uncheckedAddr(peer))
                    && peerMac.equals(x.mac())));
        }
    }

    @Test
    void xdpAttachmentIsReported() throws Exception {
        TinyXdpProgram prog;
        try {
            prog = new TinyXdpProgram();
        } catch (Exception e) {
            assumeTrue(false, "cannot load a BPF program here: " + e.getMessage());
            return;
        }
        try (prog) {
            host.ns1().call(() -> {
                prog.attach(veth1, 0);
                return null;
            });
            XdpAttachment x = nl.link(veth1).xdp();
            assertTrue(x.isAttached(), x.toString());
            assertEquals(XdpAttachment.DRIVER, x.mode(), "veth has native XDP");
            assertEquals(prog.progId, x.programId());
            assertEquals(prog.progId, x.driverProgramId());
            String ipOut = ip1("-d", "link", "show", host.veth1());
            assertTrue(ipOut.contains("prog/xdp id " + prog.progId), ipOut);
            assertTrue(nl.links().stream().anyMatch(l -> l.index() == veth1 && l.xdp().equals(x)));
            prog.detach();
            assertFalse(nl.link(veth1).xdp().isAttached());
        }
    }

    /** Thousands of addresses: a dump spread over many datagrams, compared with {@code ip}. */
    @Test
    void multiPartDump() throws Exception {
        StringBuilder add = new StringBuilder();
        StringBuilder del = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            String a = "10.66." + (i / 250) + "." + (1 + i % 250) + "/32";
            add.append("addr add ").append(a).append(" dev ").append(host.veth1()).append('\n');
            del.append("addr del ").append(a).append(" dev ").append(host.veth1()).append('\n');
        }
        batch(add.toString());
        try {
            long ours = nl.addresses(veth1).stream().filter(a -> a.address().getAddress()[1] == 66).count();
            long ips = ip1("-o", "-4", "addr", "show", "dev", host.veth1()).lines().filter(l -> l.contains(" 10.66.")).count();
            assertEquals(2000, ips);
            assertEquals(ips, ours);
            assertEquals(new java.util.HashSet<>(nl.addresses(veth1)),
                    new java.util.HashSet<>(nl.addresses().stream().filter(a -> a.ifindex() == veth1).toList()),
                    "the kernel-side ifindex filter and our own agree");
            assertEquals(veth1, nl.interfaceOwning(addr("10.66.7.250")).orElseThrow());
        } finally {
            batch(del.toString());
        }
    }

    private static void batch(String commands) throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("nxnl", ".batch");
        try {
            java.nio.file.Files.writeString(f, commands);
            ip1("-batch", f.toString());
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    /** One socket shared by several threads: requests are serialized, answers never mixed up. */
    @Test
    void concurrentUse() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            java.util.List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int which = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        switch ((which + i) % 4) {
                            case 0 -> assertEquals(host.veth1(), nl.link(veth1).name());
                            case 1 -> assertEquals(veth1, nl.route(addr(host.ip2())).oif());
                            case 2 -> assertEquals(2, nl.links().size());
                            default -> assertEquals(1, nl.route(addr(host.ip1())).oif());
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A link-local IPv6 destination is looked up on the interface named by its scope id. */
    @Test
    void linkLocalRouteUsesScopeId() throws Exception {
        byte[] peerLl;
        try (RtNetlink nl2 = host.ns2().call(RtNetlink::new)) {
            int veth2 = nl2.link(host.veth2()).index();
            peerLl = nl2.addresses(veth2).stream().filter(a -> a.scope() == AddressInfo.SCOPE_LINK)
                    .findFirst().orElseThrow().address().getAddress();
        }
        InetAddress dst = java.net.Inet6Address.getByAddress(null, peerLl, veth1);
        Route r = nl.route(dst);
        assertTrue(r.isUnicast(), r.toString());
        assertEquals(veth1, r.oif());
        assertNull(r.gateway());
        AddressInfo ownLl = nl.addresses(veth1).stream().filter(a -> a.scope() == AddressInfo.SCOPE_LINK)
                .findFirst().orElseThrow();
        assertEquals(veth1, ((java.net.Inet6Address) ownLl.address()).getScopeId());
        // the kernel prefers the link-local source, unless DAD still holds it tentative: then any
        // address of the interface is a correct answer
        java.util.List<InetAddress> own = nl.addresses(veth1).stream().map(AddressInfo::address).toList();
        assertTrue(own.contains(r.preferredSource()), r.preferredSource() + " not among " + own);
    }
}
