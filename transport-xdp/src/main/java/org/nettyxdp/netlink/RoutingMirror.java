package org.nettyxdp.netlink;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.sys.Linux;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@link RtnlMonitor}'s mirror of the namespace's IPv4 routing tables ({@code local}, {@code main},
 * {@code default}) and rules: route notifications applied as they come (each in constant time), the
 * routes they leave published once per burst ({@link #flush()}), the tables read again to confirm after
 * every burst that may touch them, and each new {@link RoutingState} published. Written on the
 * monitor's thread; {@link #state()} from any thread.
 */
final class RoutingMirror {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(RtnlMonitor.class);
    static final int RTM_DELROUTE = 25;
    private static final int NLM_F_REPLACE = 0x100;
    /** Most routes the mirror holds: a bigger table is not mirrored (lookups ask the kernel). */
    private static final int MAX_MIRRORED_ROUTES = 65_536;

    private final String namespace;
    private final Consumer<RoutingState> publisher;
    /** The IPv4 routing tables and rules, read again after every change that may touch them. */
    private volatile RoutingState routing = RoutingState.UNKNOWN;
    /** A change was seen since {@link #routing} was read. Monitor thread only. */
    private boolean dirty;
    /**
     * The routes as the notifications so far leave them (with how many times each is listed), in
     * order; valid while {@link #tracking}. Monitor thread only, as the fields below.
     */
    private final LinkedHashMap<RouteEntry, Integer> routes = new LinkedHashMap<>();
    /** The routes of {@link #routes} by what a replacing route takes the place of. */
    private final Map<Slot, List<RouteEntry>> slots = new HashMap<>();
    private int routeCount;
    private boolean defaultRules;
    /** {@link #routes} follows a known state (false: unknown until read again). */
    private boolean tracking;
    /** {@link #routes} changed since it was last published. */
    private boolean unpublished;

    /** What a route replaces ({@code NLM_F_REPLACE}): the route of the same table, prefix, TOS and metric. */
    private record Slot(int table, InetAddress destination, int prefixLength, int tos, int priority) {
        static Slot of(RouteEntry r) {
            return new Slot(r.table(), r.destination(), r.prefixLength(), r.tos(), r.priority());
        }
    }

    /** A mirror of {@code namespace}'s tables (for logs) telling {@code publisher} each new state. */
    RoutingMirror(String namespace, Consumer<RoutingState> publisher) {
        this.namespace = namespace;
        this.publisher = publisher;
    }

    /** The routes and rules as last known. */
    RoutingState state() {
        return routing;
    }

    /** Something the tables depend on may have changed (a link or address): read them again soon. */
    void markDirty() {
        dirty = true;
    }

    /** True if the tables are to be read again. */
    boolean isDirty() {
        return dirty;
    }

    /** Something a route lookup depends on changed: nothing is concluded from the tables until read again. */
    void changed() {
        dirty = true;
        unknown();
    }

    private void unknown() {
        tracking = false;
        unpublished = false;
        routes.clear();
        slots.clear();
        routeCount = 0;
        publish(RoutingState.UNKNOWN);
    }

    private void publish(RoutingState state) {
        if (state.equals(routing)) {
            return; // the same tables: listeners keep what they built from them
        }
        routing = state;
        publisher.accept(state);
    }

    /**
     * Applies an IPv4 route notification to the mirror (published by the next {@link #flush()}; the
     * tables are read again to confirm): a new route is added (a replacing one takes the place of the
     * route of the same table, prefix, TOS and metric), a deleted one removed; one that cannot be
     * applied makes the state unknown. Constant time.
     */
    void notified(int type, int flags, MemorySegment msg) throws NetlinkProtocolException {
        dirty = true;
        RouteEntry r = RouteEntry.decode(msg);
        if (r.table() != Route.TABLE_LOCAL && r.table() != Route.TABLE_MAIN && r.table() != RouteEntry.TABLE_DEFAULT) {
            return;
        }
        if (!tracking) {
            return; // being read again anyway
        }
        if (type == RTM_DELROUTE) {
            if (!remove(r)) {
                unknown();
                return;
            }
        } else if (!routes.containsKey(r)) {
            if ((flags & NLM_F_REPLACE) != 0) {
                List<RouteEntry> replaced = slots.get(Slot.of(r));
                while (replaced != null && !replaced.isEmpty()) {
                    remove(replaced.get(replaced.size() - 1));
                }
            }
            add(r);
        }
        unpublished = true;
        if (routeCount > MAX_MIRRORED_ROUTES) {
            unknown();
        }
    }

    /** Publishes the routes the notifications applied since the last call left, if any. */
    void flush() {
        if (unpublished) {
            unpublished = false;
            publish(new RoutingState(routesInOrder(), defaultRules, true));
        }
    }

    private List<RouteEntry> routesInOrder() {
        List<RouteEntry> list = new ArrayList<>(routeCount);
        routes.forEach((r, n) -> {
            for (int i = 0; i < n; i++) {
                list.add(r);
            }
        });
        return list;
    }

    private void add(RouteEntry r) {
        routes.merge(r, 1, Integer::sum);
        slots.computeIfAbsent(Slot.of(r), k -> new ArrayList<>(1)).add(r);
        routeCount++;
    }

    /** Removes one listing of {@code r}; false if it is not listed. */
    private boolean remove(RouteEntry r) {
        Integer n = routes.get(r);
        if (n == null) {
            return false;
        }
        if (n == 1) {
            routes.remove(r);
        } else {
            routes.put(r, n - 1);
        }
        Slot slot = Slot.of(r);
        List<RouteEntry> same = slots.get(slot);
        same.remove(r);
        if (same.isEmpty()) {
            slots.remove(slot);
        }
        routeCount--;
        return true;
    }

    /** Reads the IPv4 tables {@code local}, {@code main}, {@code default} and the rules through {@code queries}. */
    void read(RtNetlink queries) {
        dirty = false;
        try {
            List<RouteEntry> mirrored = new ArrayList<>();
            for (RouteEntry r : queries.routes(Linux.AF_INET)) {
                if (r.table() == Route.TABLE_LOCAL || r.table() == Route.TABLE_MAIN
                        || r.table() == RouteEntry.TABLE_DEFAULT) {
                    mirrored.add(r);
                }
            }
            boolean rules = FibRule.defaultsOnly(queries.rules(Linux.AF_INET));
            if (mirrored.size() > MAX_MIRRORED_ROUTES) {
                unknown();
                return;
            }
            routes.clear();
            slots.clear();
            routeCount = 0;
            for (RouteEntry r : mirrored) {
                add(r);
            }
            defaultRules = rules;
            tracking = true;
            unpublished = false;
            publish(new RoutingState(mirrored, rules, true));
        } catch (IOException | RuntimeException e) {
            logger.debug("rtnetlink monitor of {}: cannot read the routes: {}", namespace, e.toString());
            unknown();
        }
    }
}
