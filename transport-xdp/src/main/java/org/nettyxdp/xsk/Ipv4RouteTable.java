package org.nettyxdp.xsk;

import org.nettyxdp.netlink.Route;
import org.nettyxdp.netlink.RouteEntry;
import org.nettyxdp.netlink.RoutingState;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The kernel's IPv4 route decision for a destination, taken in memory from a mirror of its tables
 * ({@link RoutingState}), or no decision where the mirror cannot be sure it decides as the kernel
 * would. {@link #lookup} is a longest-prefix match over the distinct prefix lengths of the tables (at
 * most 33 hash probes per table), allocates nothing and never blocks.
 *
 * <p>It decides only in the simple case, and answers {@code null} ("ask the kernel") otherwise:
 * <ul>
 *   <li>the rules must be the three defaults (no policy routing, no VRF), so a lookup consults the
 *       {@code local}, {@code main} and {@code default} tables in that order;</li>
 *   <li>a destination that matches any route of the {@code local} table (this host's addresses,
 *       broadcast, 127/8) is not decided, nor one that matches no {@code main} route;</li>
 *   <li>the longest {@code main} prefix that matches must hold exactly one route (several, of other
 *       metrics or TOS, make the kernel choose by state we do not mirror), of type unicast, with one
 *       output interface and at most one same-family gateway (no multipath, next-hop object, encap),
 *       no TOS or source prefix, and a next hop that is neither dead nor link-down. Blackhole,
 *       unreachable, prohibit, local, broadcast, throw routes are not decided: the kernel socket
 *       reports what the kernel does with them.</li>
 * </ul>
 * Next-hop exceptions the kernel keeps per destination (ICMP redirects, path MTU) are not mirrored;
 * the routes of other families are not decided at all.
 */
final class Ipv4RouteTable {
    /** A table that decides nothing (state unknown, policy rules, or no IPv4 at all). */
    static final Ipv4RouteTable UNSURE = new Ipv4RouteTable(null, null, null, Map.of(), Map.of(), false);

    /**
     * A {@code main} route the table decides with: its output interface and gateway ({@code 0}:
     * on-link, the destination is the neighbour). {@link #template} is what the kernel answered for a
     * destination behind it, once the fast path asked: the source address it chose and, for a gateway
     * route, the gateway's MAC; shared by every destination behind the route. Written by the resolver,
     * read by the event loop.
     */
    static final class Decided {
        final RouteEntry route;
        final int oif;
        final int gateway;
        final Inet4Address gatewayAddress;
        volatile Template template;

        Decided(RouteEntry route, int oif, Inet4Address gateway) {
            this.route = route;
            this.oif = oif;
            this.gateway = gateway == null ? 0 : gateway.hashCode();
            this.gatewayAddress = gateway;
        }
    }

    /**
     * The kernel's answer for a route: the gateway's MAC (0 for an on-link route) and the source
     * address, asked for at {@code askedNanos}, used until {@code expiresNanos}; {@code refreshNanos}
     * is when the event loop may ask again after it expired (event loop only).
     */
    static final class Template {
        final long mac;
        final byte[] source;
        final long askedNanos;
        final long expiresNanos;
        long refreshNanos;

        Template(long mac, byte[] source, long askedNanos, long expiresNanos) {
            this.mac = mac;
            this.source = source;
            this.askedNanos = askedNanos;
            this.expiresNanos = expiresNanos;
            this.refreshNanos = expiresNanos;
        }
    }

    /** Marks a prefix whose route(s) the table does not decide with (it still hides shorter ones). */
    private static final Decided UNDECIDED = new Decided(null, 0, null);

    private final Prefixes local;
    private final Prefixes main;
    private final RoutingState state;
    /** The routes decided with, to carry their kernel answers over to the next table. */
    private final Map<RouteEntry, Decided> decidedByRoute;
    /** The {@code local} table's routes by interface: its addresses, on which the kernel's source depends. */
    private final Map<Integer, Set<RouteEntry>> localByOif;
    private final boolean sure;

    private Ipv4RouteTable(RoutingState state, Prefixes local, Prefixes main, Map<RouteEntry, Decided> decidedByRoute,
                           Map<Integer, Set<RouteEntry>> localByOif, boolean sure) {
        this.state = state;
        this.local = local;
        this.main = main;
        this.decidedByRoute = decidedByRoute;
        this.localByOif = localByOif;
        this.sure = sure;
    }

    /** The table for {@code state}; {@link #UNSURE} when the state is unknown or not default-ruled. */
    static Ipv4RouteTable of(RoutingState state) {
        return of(state, UNSURE);
    }

    /**
     * As {@link #of(RoutingState)}, keeping the kernel answers {@code previous} learnt for the routes
     * that did not change (nor did the addresses of their interface): tables change with every route
     * of every interface of the host, most of them not ours.
     */
    static Ipv4RouteTable of(RoutingState state, Ipv4RouteTable previous) {
        if (state == null || !state.known() || !state.defaultRules()) {
            return UNSURE;
        }
        Map<Long, List<RouteEntry>> localRoutes = new HashMap<>();
        Map<Long, List<RouteEntry>> mainRoutes = new HashMap<>();
        for (RouteEntry r : state.routes()) {
            if (!(r.destination() instanceof Inet4Address d) || r.prefixLength() > 32) {
                continue;
            }
            Map<Long, List<RouteEntry>> into = r.table() == Route.TABLE_LOCAL ? localRoutes
                    : r.table() == Route.TABLE_MAIN ? mainRoutes : null;
            if (into == null) {
                continue; // the default table is consulted only when main has no match: then we do not decide
            }
            into.computeIfAbsent(key(r.prefixLength(), d.hashCode()), k -> new ArrayList<>()).add(r);
        }
        Map<Integer, Set<RouteEntry>> localByOif = new HashMap<>();
        localRoutes.values().forEach(rs -> rs.forEach(
                r -> localByOif.computeIfAbsent(r.oif(), k -> new HashSet<>()).add(r)));
        Map<Long, Decided> decided = new HashMap<>();
        Map<RouteEntry, Decided> byRoute = new HashMap<>();
        mainRoutes.forEach((k, routes) -> {
            Decided d = routes.size() == 1 ? decide(routes.get(0)) : UNDECIDED;
            if (d != UNDECIDED) {
                Decided old = previous.decidedByRoute.get(d.route);
                if (old != null && Objects.equals(previous.localByOif.get(d.oif), localByOif.get(d.oif))) {
                    d = old;
                }
                byRoute.put(d.route, d);
            }
            decided.put(k, d);
        });
        Map<Long, Decided> localMarks = new HashMap<>();
        localRoutes.keySet().forEach(k -> localMarks.put(k, UNDECIDED));
        return new Ipv4RouteTable(state, new Prefixes(localMarks), new Prefixes(decided), byRoute, localByOif, true);
    }

    private static Decided decide(RouteEntry r) {
        boolean ok = r.type() == Route.RTN_UNICAST && r.simple() && r.tos() == 0 && r.sourceLength() == 0
                && r.oif() > 0 && (r.flags() & (RouteEntry.RTNH_F_DEAD | RouteEntry.RTNH_F_LINKDOWN)) == 0
                && (r.gateway() == null || r.gateway() instanceof Inet4Address);
        return ok ? new Decided(r, r.oif(), (Inet4Address) r.gateway()) : UNDECIDED;
    }

    /** The state this table mirrors (null for {@link #UNSURE}). */
    RoutingState state() {
        return state;
    }

    /**
     * The {@code main} route the kernel takes to {@code destination} (an IPv4 address as an int, as
     * {@link Inet4Address#hashCode()} gives it), or null where this table cannot be sure.
     */
    Decided lookup(int destination) {
        if (!sure || destination == 0 || destination == -1 || (destination >>> 28) == 0xe) {
            return null; // unspecified, limited broadcast, multicast: the kernel decides before its tables
        }
        if (local.longest(destination) != null) {
            return null;
        }
        Decided d = main.longest(destination);
        if (d == null) {
            return null; // on to the default table, or unreachable: the kernel socket tells
        }
        return d == UNDECIDED ? null : d;
    }

    private static long key(int length, int address) {
        int masked = length == 0 ? 0 : address & (-1 << (32 - length));
        return (long) length << 32 | (masked & 0xffff_ffffL);
    }

    /** Prefixes of one table, by length: open addressing over (length, masked address) keys. */
    private static final class Prefixes {
        private final int[] lengths; // descending
        private final long[] keys;
        private final Decided[] values;
        private final int mask;

        Prefixes(Map<Long, Decided> entries) {
            TreeSet<Integer> ls = new TreeSet<>();
            entries.keySet().forEach(k -> ls.add((int) (k >>> 32)));
            lengths = ls.descendingSet().stream().mapToInt(Integer::intValue).toArray();
            int cap = Integer.highestOneBit(Math.max(4, entries.size() * 2 - 1)) << 1;
            keys = new long[cap];
            java.util.Arrays.fill(keys, -1L);
            values = new Decided[cap];
            mask = cap - 1;
            entries.forEach((k, v) -> {
                int i = slot(k);
                while (keys[i] != -1L) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                values[i] = v;
            });
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        Decided longest(int address) {
            for (int length : lengths) {
                long k = key(length, address);
                for (int i = slot(k); keys[i] != -1L; i = (i + 1) & mask) {
                    if (keys[i] == k) {
                        return values[i];
                    }
                }
            }
            return null;
        }
    }
}
