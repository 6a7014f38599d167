package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.netlink.RouteEntry;
import org.nettyxdp.netlink.RoutingState;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.netlink.RtnlMonitor;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A large main table changed in bursts, in a namespace: {@value #ROUTES} routes added one by one
 * ({@code ip -batch}), {@value #BURST} more (a burst the notification socket holds whole, so no overrun
 * makes the monitor read the tables once instead of once per notification), then half of the first
 * deleted. The monitor's mirror follows each burst, applying each notification in constant time and
 * publishing and confirming once per burst waiting on the socket (before: once per notification, each
 * followed by a dump of the whole table), and decides sampled destinations as {@code ip route get}
 * does. Prints how long the mirror took to follow and how many states it published; asserts no timing
 * (the wait for the mirror is bounded at a minute a burst).
 */
class LargeRouteTableTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int ROUTES = 20_000;
    private static final int BURST = 2_000;
    private static final Pattern DEV = Pattern.compile("\\bdev (\\S+)");
    private static final Pattern VIA = Pattern.compile("\\bvia (\\S+)");

    @Test
    void mirrorFollowsTwentyThousandRoutesAddedAndDeletedOneByOne() throws Exception {
        NetNs ns = HOSTS.namespace();
        String n = ns.name();
        String dev = "nxlr" + Math.abs(n.hashCode() % 10000);
        for (String s : new String[] {"link add " + dev + " type veth peer name " + dev + "p",
                "addr add 10.70.0.1/16 dev " + dev, "link set " + dev + " up", "link set " + dev + "p up"}) {
            Shell.run("ip -n " + n + " " + s);
        }
        // builds its table from each state published, as each fast path's next hops do
        AtomicInteger published = new AtomicInteger();
        AtomicInteger unknown = new AtomicInteger();
        RtnlMonitor.Listener follower = new RtnlMonitor.Listener() {
            private Ipv4RouteTable last = Ipv4RouteTable.UNSURE;

            @Override
            public void routingChanged(RoutingState state) {
                published.incrementAndGet();
                unknown.addAndGet(state.known() ? 0 : 1);
                Ipv4RouteTable t = Ipv4RouteTable.of(state, last);
                last = t == Ipv4RouteTable.UNSURE ? last : t;
            }
        };
        RtnlMonitor.Subscription sub = ns.call(() -> RtnlMonitor.subscribe(follower));
        Path batch = Files.createTempFile("routes", ".batch");
        try (RtNetlink nl = ns.call(RtNetlink::new)) {
            int ifindex = nl.link(dev).index();
            int base = settle(sub, nl, -1, "the namespace's own routes");

            StringBuilder add = new StringBuilder();
            for (int i = 0; i < ROUTES; i++) {
                add.append(route("add", i, dev));
            }
            burst(ns, batch, add, sub, nl, base + ROUTES, ROUTES + " routes added", published, unknown);
            agreesWithTheKernel(sub, n, ifindex, dev, 0, ROUTES);

            // a burst the notification socket's buffer holds whole (no overrun to resynchronise from)
            StringBuilder more = new StringBuilder();
            for (int i = ROUTES; i < ROUTES + BURST; i++) {
                more.append(route("add", i, dev));
            }
            burst(ns, batch, more, sub, nl, base + ROUTES + BURST, BURST + " more routes added", published, unknown);
            agreesWithTheKernel(sub, n, ifindex, dev, ROUTES - BURST, ROUTES + BURST);

            StringBuilder delete = new StringBuilder();
            for (int i = 0; i < ROUTES; i += 2) {
                delete.append("route del ").append(destination(i)).append("/24\n");
            }
            burst(ns, batch, delete, sub, nl, base + ROUTES / 2 + BURST, ROUTES / 2 + " routes deleted", published,
                    unknown);
            agreesWithTheKernel(sub, n, ifindex, dev, 0, ROUTES + BURST);
        } finally {
            sub.close();
            Files.deleteIfExists(batch);
        }
    }

    private static String route(String verb, int i, String dev) {
        return "route " + verb + " " + destination(i) + "/24 " + nextHop(i) + " dev " + dev + "\n";
    }

    /** Runs {@code commands} in one {@code ip -batch}, waits for the mirror to have {@code count} routes. */
    private static void burst(NetNs ns, Path batch, CharSequence commands, RtnlMonitor.Subscription sub,
                              RtNetlink nl, int count, String what, AtomicInteger published, AtomicInteger unknown)
            throws Exception {
        Files.writeString(batch, commands);
        published.set(0);
        unknown.set(0);
        long start = System.nanoTime();
        Shell.run("ip -n " + ns.name() + " -batch " + batch);
        long done = System.nanoTime();
        settle(sub, nl, count, what);
        long settled = System.nanoTime();
        System.out.printf("%s in %d ms; the mirror followed %d ms later, in %d states published (%d unknown)%n",
                what, (done - start) / 1_000_000, (settled - done) / 1_000_000, published.get(), unknown.get());
    }

    /** The i-th route's /24: 10.100.0.0 on, one /24 after another. */
    private static String destination(int i) {
        return "10." + (100 + (i >> 8)) + "." + (i & 255) + ".0";
    }

    /** On-link for one route in three, else through a gateway of the interface's /16. */
    private static String nextHop(int i) {
        return i % 3 == 0 ? "" : "via 10.70." + (i % 200) + "." + (2 + i % 250);
    }

    /** Samples destinations of the routes in [from, to) and a few beyond: the mirror decides as the kernel. */
    private static void agreesWithTheKernel(RtnlMonitor.Subscription sub, String ns, int ifindex, String dev,
                                            int from, int to) {
        Ipv4RouteTable table = Ipv4RouteTable.of(sub.monitor().routing());
        Random random = new Random(to);
        Map<String, Integer> outcomes = new HashMap<>();
        for (int k = 0; k < 60; k++) {
            int i = k < 50 ? from + random.nextInt(to - from) : to + k;
            String d = destination(i).replaceAll("\\.0$", "." + (1 + random.nextInt(254)));
            Ipv4RouteTable.Decided decided = table.lookup(addressHash(d));
            String kernel = Shell.tryRun("ip -n " + ns + " -4 -o route get " + d).output().trim();
            String what = d + ": mirror " + (decided == null ? "fall back" : "oif " + decided.oif + " via "
                    + decided.gatewayAddress) + ", kernel " + kernel;
            if (kernel.startsWith("RTNETLINK") || !kernel.contains(" dev ")) {
                assertNull(decided, what); // no route (no default route here): not decided
                outcomes.merge("none", 1, Integer::sum);
                continue;
            }
            assertNotNull(decided, what);
            assertEquals(ifindex, decided.oif, what);
            assertEquals(dev, group(DEV, kernel), what);
            assertEquals(group(VIA, kernel), decided.gatewayAddress == null ? null
                    : decided.gatewayAddress.getHostAddress(), what);
            outcomes.merge(decided.gatewayAddress == null ? "on-link" : "via", 1, Integer::sum);
        }
        System.out.println("sampled decisions: " + outcomes);
        assertTrue(outcomes.containsKey("via") && outcomes.containsKey("on-link"), outcomes.toString());
    }

    private static int addressHash(String address) {
        try {
            return InetAddress.getByName(address).hashCode();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * Waits until the mirror is known with {@code count} routes (any, if negative) and equals what a
     * fresh dump reads; returns its route count. A minute at most.
     */
    private static int settle(RtnlMonitor.Subscription sub, RtNetlink nl, int count, String what) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            RoutingState now = sub.monitor().routing();
            if (now.known() && (count < 0 || now.routes().size() == count)) {
                java.util.List<RouteEntry> dumped = new java.util.ArrayList<>();
                for (RouteEntry r : nl.routes(Linux.AF_INET)) {
                    if (r.table() == 253 || r.table() == 254 || r.table() == 255) {
                        dumped.add(r);
                    }
                }
                if (now.routes().equals(dumped)) {
                    return dumped.size();
                }
            }
            Thread.sleep(20);
        }
        RoutingState now = sub.monitor().routing();
        throw new AssertionError("the mirror did not follow (" + what + "): known " + now.known() + ", "
                + now.routes().size() + " routes, expected " + count);
    }

    private static String group(Pattern p, String s) {
        Matcher m = p.matcher(s);
        return m.find() ? m.group(1) : null;
    }
}
