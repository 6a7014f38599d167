package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.netlink.FibRule;
import org.nettyxdp.netlink.RoutingState;
import org.nettyxdp.netlink.RouteEntry;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.netlink.RtnlMonitor;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-memory route decision against the kernel's: in a namespace with two interfaces and host,
 * /24, /16, default, other-interface, on-link, blackhole, unreachable, ECMP, two-metric and TOS
 * routes, each destination's decision by {@link Ipv4RouteTable} (from the tables as
 * {@link RtnlMonitor} mirrors them) is compared with {@code ip route get}: the same interface and
 * gateway, and one source for all destinations behind a route (what the fast path learns once per
 * route), or "fall back" exactly where the mirror cannot be sure. A policy rule makes every
 * destination fall back until it is deleted.
 */
class Ipv4RouteTableTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final Pattern DEV = Pattern.compile("\\bdev (\\S+)");
    private static final Pattern VIA = Pattern.compile("\\bvia (\\S+)");
    private static final Pattern SRC = Pattern.compile("\\bsrc (\\S+)");

    /** A destination and what the mirror must answer: an interface name and gateway, or fall back. */
    private record Expect(String destination, String dev, String via) {
        static Expect fallBack(String destination) {
            return new Expect(destination, null, null);
        }
    }

    @Test
    void decidesAsTheKernelOrFallsBack() throws Exception {
        NetNs ns = HOSTS.namespace();
        String n = ns.name();
        String a = "nxra" + Math.abs(n.hashCode() % 10000);
        String b = "nxrb" + Math.abs(n.hashCode() % 10000);
        String[] setup = {
                "link add " + a + " type veth peer name " + a + "p",
                "link add " + b + " type veth peer name " + b + "p",
                "addr add 10.50.0.1/24 dev " + a,
                "addr add 10.50.0.9/24 dev " + a, // a secondary address: sources must still agree
                "addr add 10.60.0.1/24 dev " + b,
                "link set " + a + " up", "link set " + a + "p up", "link set " + b + " up", "link set " + b + "p up",
                "route add default via 10.50.0.254 dev " + a,
                "route add 172.16.0.0/16 via 10.50.0.2 dev " + a,
                "route add 172.16.5.0/24 via 10.60.0.2 dev " + b,
                "route add 172.16.5.7/32 via 10.50.0.3 dev " + a,
                "route add 172.16.6.0/24 dev " + a,
                "route add blackhole 172.16.7.0/24",
                "route add unreachable 172.16.8.0/24",
                "route add prohibit 172.16.9.0/24",
                "route add 172.17.0.0/16 nexthop via 10.50.0.2 dev " + a + " nexthop via 10.50.0.3 dev " + a,
                "route add 172.18.0.0/16 via 10.50.0.2 dev " + a + " metric 10",
                "route add 172.18.0.0/16 via 10.50.0.3 dev " + a + " metric 20",
                "route add 192.0.2.0/24 tos 0x10 via 10.50.0.2 dev " + a,
                "route add 198.51.100.0/24 via 10.50.0.2 dev " + a + " src 10.50.0.9",
        };
        for (String s : setup) {
            Shell.run("ip -n " + n + " " + s);
        }
        List<Expect> expect = List.of(
                new Expect("10.50.0.7", a, null),          // connected /24
                new Expect("10.50.0.200", a, null),
                new Expect("8.8.8.8", a, "10.50.0.254"),   // default
                new Expect("203.0.113.5", a, "10.50.0.254"),
                new Expect("172.16.1.1", a, "10.50.0.2"),  // /16
                new Expect("172.16.200.9", a, "10.50.0.2"),
                new Expect("172.16.5.7", a, "10.50.0.3"),  // host route inside a /24 of another interface
                new Expect("172.16.5.1", b, "10.60.0.2"),  // decided, but through the other interface
                new Expect("10.60.0.9", b, null),
                new Expect("172.16.6.3", a, null),         // on-link route
                new Expect("198.51.100.77", a, "10.50.0.2"), // explicit src
                Expect.fallBack("172.16.7.1"),             // blackhole
                Expect.fallBack("172.16.8.1"),             // unreachable
                Expect.fallBack("172.16.9.1"),             // prohibit
                Expect.fallBack("172.17.1.1"),             // ECMP
                Expect.fallBack("172.18.1.1"),             // two metrics
                Expect.fallBack("192.0.2.1"),              // a TOS route at the longest prefix
                Expect.fallBack("10.50.0.1"),              // local
                Expect.fallBack("10.50.0.255"),            // broadcast
                Expect.fallBack("127.0.0.1"),              // loopback
                Expect.fallBack("224.0.0.251"),            // multicast
                Expect.fallBack("255.255.255.255"));

        RtnlMonitor.Subscription sub = ns.call(() -> RtnlMonitor.subscribe(new RtnlMonitor.Listener() { }));
        try (RtNetlink nl = ns.call(RtNetlink::new)) {
            RoutingState state = settled(sub, nl);
            assertTrue(state.defaultRules(), "a fresh namespace has the three default rules");
            Ipv4RouteTable table = Ipv4RouteTable.of(state);
            Map<String, Integer> ifindex = Map.of(a, nl.link(a).index(), b, nl.link(b).index());
            Map<Ipv4RouteTable.Decided, String> sourceOf = new HashMap<>();
            Map<String, String> report = new LinkedHashMap<>();
            for (Expect e : expect) {
                InetAddress d = InetAddress.getByName(e.destination);
                Ipv4RouteTable.Decided decided = table.lookup(d.hashCode());
                String kernel = Shell.tryRun("ip -n " + n + " -4 -o route get " + e.destination).output().trim();
                report.put(e.destination, (decided == null ? "fall back" : "oif " + decided.oif + " via "
                        + decided.gatewayAddress) + " | kernel: " + kernel);
                if (e.dev == null) {
                    assertNull(decided, e.destination + " must fall back: " + report.get(e.destination));
                    continue;
                }
                assertNotNull(decided, e.destination + " must be decided: " + report.get(e.destination));
                assertEquals(ifindex.get(e.dev), decided.oif, report.get(e.destination));
                assertEquals(e.via, decided.gatewayAddress == null ? null : decided.gatewayAddress.getHostAddress(),
                        report.get(e.destination));
                // the kernel agrees: same interface, same gateway (none for on-link)
                assertEquals(e.dev, group(DEV, kernel), report.get(e.destination));
                assertEquals(e.via, group(VIA, kernel), report.get(e.destination));
                // one source per route: the answer the fast path learns once serves every destination behind it
                String src = group(SRC, kernel);
                assertNotNull(src, kernel);
                String first = sourceOf.putIfAbsent(decided, src);
                assertTrue(first == null || first.equals(src), "two sources behind one route: " + report);
            }
            report.forEach((k, v) -> System.out.println(k + " -> " + v));
            assertEquals("10.50.0.9", sourceOf.get(table.lookup(InetAddress.getByName("198.51.100.77").hashCode())));

            // a policy rule: nothing is decided any more, until it is gone
            Shell.run("ip -n " + n + " rule add from 10.50.0.0/24 table 100");
            RoutingState ruled = settled(sub, nl);
            assertFalse(ruled.defaultRules());
            Ipv4RouteTable withRule = Ipv4RouteTable.of(ruled);
            for (Expect e : expect) {
                assertNull(withRule.lookup(InetAddress.getByName(e.destination).hashCode()), e.destination);
            }
            Shell.run("ip -n " + n + " rule del from 10.50.0.0/24 table 100");
            RoutingState back = settled(sub, nl);
            assertTrue(back.defaultRules());
            assertNotNull(Ipv4RouteTable.of(back).lookup(InetAddress.getByName("8.8.8.8").hashCode()));

            // a route change is followed: the /16 moves to the other interface
            Shell.run("ip -n " + n + " route replace 172.16.0.0/16 via 10.60.0.2 dev " + b);
            Ipv4RouteTable moved = Ipv4RouteTable.of(settled(sub, nl), table);
            assertEquals(ifindex.get(b), moved.lookup(InetAddress.getByName("172.16.1.1").hashCode()).oif);
            // the routes that did not change keep what the kernel answered for them (one object per route)
            assertSame(table.lookup(InetAddress.getByName("8.8.8.8").hashCode()),
                    moved.lookup(InetAddress.getByName("8.8.8.8").hashCode()));
            // a link going down takes its routes along (the kernel sends no route notification for that)
            Shell.run("ip -n " + n + " link set " + b + " down");
            Ipv4RouteTable down = Ipv4RouteTable.of(settled(sub, nl));
            Ipv4RouteTable.Decided afterDown = down.lookup(InetAddress.getByName("172.16.1.1").hashCode());
            String kernel = Shell.tryRun("ip -n " + n + " -4 -o route get 172.16.1.1").output().trim();
            assertTrue(afterDown == null || afterDown.oif == ifindex.get(a) && kernel.contains("dev " + a),
                    "after " + b + " went down: mirror " + (afterDown == null ? "fall back" : afterDown.oif)
                            + ", kernel " + kernel);
        } finally {
            sub.close();
        }
    }

    /** The rules the kernel reports for a fresh namespace are recognized as the defaults. */
    @Test
    void freshNamespaceHasDefaultRules() throws Exception {
        NetNs ns = HOSTS.namespace();
        try (RtNetlink nl = ns.call(RtNetlink::new)) {
            List<FibRule> rules = nl.rules(Linux.AF_INET);
            assertTrue(FibRule.defaultsOnly(rules), rules.toString());
            Shell.run("ip -n " + ns.name() + " rule add fwmark 7 table 100");
            assertFalse(FibRule.defaultsOnly(nl.rules(Linux.AF_INET)));
        }
    }

    /**
     * Waits until the monitor's routing state is known and equals what a fresh dump reads (the
     * monitor reads again after every notification), and returns it.
     */
    private static RoutingState settled(RtnlMonitor.Subscription sub, RtNetlink nl) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        RoutingState expected = null;
        while (System.nanoTime() < deadline) {
            List<RouteEntry> routes = new ArrayList<>();
            for (RouteEntry r : nl.routes(Linux.AF_INET)) {
                if (r.table() == 253 || r.table() == 254 || r.table() == 255) {
                    routes.add(r);
                }
            }
            expected = new RoutingState(routes, FibRule.defaultsOnly(nl.rules(Linux.AF_INET)), true);
            RoutingState now = sub.monitor().routing();
            if (now.equals(expected)) {
                return now;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the monitor's routes did not follow: " + sub.monitor().routing() + " vs " + expected);
    }

    private static String group(Pattern p, String s) {
        Matcher m = p.matcher(s);
        return m.find() ? m.group(1) : null;
    }
}
