package org.nettyxdp.netlink;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.sys.Linux;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Keeps an {@link RtnlMonitor}'s {@link RoutingState} (the IPv4 {@code local}, {@code main} and
 * {@code default} tables and whether the rules are the defaults) in step with the kernel: applies route
 * notifications at once, and reads the tables again after any change that may touch them. Written by the
 * monitor's thread, {@link #state()} read by any.
 */
final class RoutingFollower {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(RoutingFollower.class);
    private static final int RTM_DELROUTE = 25;
    private static final int NLM_F_REPLACE = 0x100;
    /** Most routes the state mirrors: a bigger table is not mirrored (lookups ask the kernel). */
    private static final int MAX_MIRRORED_ROUTES = 65_536;

    private final String namespace;
    private final RtNetlink queries;
    /** Told every new state, on the monitor's thread. */
    private final Consumer<RoutingState> published;
    /** The IPv4 routing tables and rules, read again after every change that may touch them. */
    private volatile RoutingState routing = RoutingState.UNKNOWN;
    /** A change was seen since {@link #routing} was read. Monitor thread only. */
    private boolean dirty;

    RoutingFollower(String namespace, RtNetlink queries, Consumer<RoutingState> published) {
        this.namespace = namespace;
        this.queries = queries;
        this.published = published;
    }

    /** The state as last known; any thread, no blocking. */
    RoutingState state() {
        return routing;
    }

    /**
     * Something the tables depend on changed without a notification of its own (a link or an address:
     * the kernel removes the routes of a link that went down silently): they are read again.
     */
    void mayHaveChanged() {
        dirty = true;
    }

    /** Something a route lookup depends on changed: nothing is concluded from the tables until read again. */
    void changed() {
        dirty = true;
        publish(RoutingState.UNKNOWN);
    }

    /** Reads the tables again if anything changed since they were last read. */
    void readIfChanged() {
        if (dirty) {
            read();
        }
    }

    /**
     * Applies an IPv4 route notification to the mirror now (and reads the tables again to confirm):
     * a new route is added (a replacing one takes the place of the route of the same table, prefix,
     * TOS and metric), a deleted one removed; one that cannot be applied makes the state unknown.
     */
    void routeNotified(int type, int flags, MemorySegment msg) throws NetlinkProtocolException {
        dirty = true;
        RouteEntry r = RouteEntry.decode(msg);
        if (!mirrored(r)) {
            return;
        }
        RoutingState now = routing;
        if (!now.known()) {
            return; // being read again anyway
        }
        List<RouteEntry> routes = new ArrayList<>(now.routes());
        if (type == RTM_DELROUTE) {
            if (!routes.remove(r)) {
                publish(RoutingState.UNKNOWN);
                return;
            }
        } else if (!routes.contains(r)) {
            if ((flags & NLM_F_REPLACE) != 0) {
                routes.removeIf(o -> o.table() == r.table() && o.prefixLength() == r.prefixLength()
                        && o.destination().equals(r.destination()) && o.tos() == r.tos()
                        && o.priority() == r.priority());
            }
            routes.add(r);
        }
        publish(routes.size() > MAX_MIRRORED_ROUTES ? RoutingState.UNKNOWN
                : new RoutingState(routes, now.defaultRules(), true));
    }

    /** Reads the IPv4 tables {@code local}, {@code main}, {@code default} and the rules. */
    void read() {
        dirty = false;
        try {
            List<RouteEntry> mirrored = new ArrayList<>();
            for (RouteEntry r : queries.routes(Linux.AF_INET)) {
                if (mirrored(r)) {
                    mirrored.add(r);
                }
            }
            boolean defaultRules = FibRule.defaultsOnly(queries.rules(Linux.AF_INET));
            publish(mirrored.size() > MAX_MIRRORED_ROUTES ? RoutingState.UNKNOWN
                    : new RoutingState(mirrored, defaultRules, true));
        } catch (IOException | RuntimeException e) {
            logger.debug("rtnetlink monitor of {}: cannot read the routes: {}", namespace, e.toString());
            publish(RoutingState.UNKNOWN);
        }
    }

    private static boolean mirrored(RouteEntry r) {
        return r.table() == Route.TABLE_LOCAL || r.table() == Route.TABLE_MAIN || r.table() == RouteEntry.TABLE_DEFAULT;
    }

    private void publish(RoutingState state) {
        if (state.equals(routing)) {
            return; // the same tables: listeners keep what they built from them
        }
        routing = state;
        published.accept(state);
    }
}
