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

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
 * ({@code ip -batch}), {@value #BURST} more, {@value #PACED} added one at a time by separate commands,
 * then half of the first deleted. The monitor's mirror follows each burst, applying each notification
 * in constant time and publishing and confirming (a dump of the tables) once per burst waiting on the
 * socket, not once per notification, and decides sampled destinations as {@code ip route get} does.
 * Prints how long the mirror took to follow, how many states it published and the monitor thread's
 * CPU time; asserts no timing (the wait for the mirror is bounded at a minute a burst).
 */
class LargeRouteTableTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int ROUTES = 20_000;
    private static final int BURST = 2_000;
    private static final int PACED = 200;
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
            int base = settle(sub, nl, -1, "the namespace's own routes").routes().size();

            StringBuilder add = new StringBuilder();
            for (int i = 0; i < ROUTES; i++) {
                add.append(route("add", i, dev));
            }
            RoutingState state = burst(ns, batch, add, sub, nl, base + ROUTES, ROUTES + " routes added", published,
                    unknown);
            agreesWithTheKernel(state, n, ifindex, dev, 0, ROUTES);

            // a burst the notification socket's buffer holds whole (no overrun to resynchronise from)
            StringBuilder more = new StringBuilder();
            for (int i = ROUTES; i < ROUTES + BURST; i++) {
                more.append(route("add", i, dev));
            }
            state = burst(ns, batch, more, sub, nl, base + ROUTES + BURST, BURST + " more routes added", published,
                    unknown);
            agreesWithTheKernel(state, n, ifindex, dev, ROUTES - BURST, ROUTES + BURST);

            // changes one at a time (a process each), as a routing daemon makes them: each notification
            // arrives while the mirror still reads the tables for the ones before
            published.set(0);
            unknown.set(0);
            long cpu = monitorCpuNanos();
            long start = System.nanoTime();
            for (int i = ROUTES + BURST; i < ROUTES + BURST + PACED; i++) {
                Shell.run("ip -n " + n + " " + route("add", i, dev).trim());
            }
            long done = System.nanoTime();
            state = settle(sub, nl, base + ROUTES + BURST + PACED, PACED + " routes added one at a time");
            System.out.printf("%d routes added one at a time in %d ms; the mirror followed %d ms later, in %d states "
                    + "published (%d unknown); monitor CPU %d ms%n", PACED, (done - start) / 1_000_000,
                    (System.nanoTime() - done) / 1_000_000, published.get(), unknown.get(),
                    (monitorCpuNanos() - cpu) / 1_000_000);
            agreesWithTheKernel(state, n, ifindex, dev, ROUTES, ROUTES + BURST + PACED);

            StringBuilder delete = new StringBuilder();
            for (int i = 0; i < ROUTES; i += 2) {
                delete.append("route del ").append(destination(i)).append("/24\n");
            }
            state = burst(ns, batch, delete, sub, nl, base + ROUTES / 2 + BURST + PACED, ROUTES / 2 + " routes deleted",
                    published, unknown);
            agreesWithTheKernel(state, n, ifindex, dev, 0, ROUTES + BURST + PACED);
            // notifications the monitor had not reached when the mirror settled (it settles on each dump)
            cpu = monitorCpuNanos();
            Thread.sleep(2000);
            System.out.printf("monitor CPU in the 2 s after the last burst: %d ms%n",
                    (monitorCpuNanos() - cpu) / 1_000_000);
        } finally {
            sub.close();
            Files.deleteIfExists(batch);
        }
    }

    private static String route(String verb, int i, String dev) {
        return "route " + verb + " " + destination(i) + "/24 " + nextHop(i) + " dev " + dev + "\n";
    }

    /**
     * Runs {@code commands} in one {@code ip -batch}; returns the mirror's state once it has {@code count}
     * routes (notifications the monitor had not reached by then may make it unknown for a moment
     * later: the deletion of a route a dump already left out).
     */
    private static RoutingState burst(NetNs ns, Path batch, CharSequence commands, RtnlMonitor.Subscription sub,
                                              RtNetlink nl, int count, String what, AtomicInteger published,
                                      AtomicInteger unknown) throws Exception {
        Files.writeString(batch, commands);
        published.set(0);
        unknown.set(0);
        long cpu = monitorCpuNanos();
        long start = System.nanoTime();
        Shell.run("ip -n " + ns.name() + " -batch " + batch);
        long done = System.nanoTime();
        RoutingState state = settle(sub, nl, count, what);
        long settled = System.nanoTime();
        System.out.printf("%s in %d ms; the mirror followed %d ms later, in %d states published (%d unknown); "
                + "monitor CPU %d ms%n", what, (done - start) / 1_000_000, (settled - done) / 1_000_000,
                published.get(), unknown.get(), (monitorCpuNanos() - cpu) / 1_000_000);
        return state;
    }

    /** CPU time of the rtnetlink monitor threads of this JVM so far. */
    private static long monitorCpuNanos() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("xdp-rtnl-monitor")) {
                sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
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
    private static void agreesWithTheKernel(RoutingState state, String ns, int ifindex, String dev,
                                            int from, int to) {
        Ipv4RouteTable table = Ipv4RouteTable.of(state);
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
     * fresh dump reads; returns that state. A minute at most.
     */
    private static RoutingState settle(RtnlMonitor.Subscription sub, RtNetlink nl, int count, String what)
            throws Exception {
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
                    return now;
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
