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
 * The {@link RtnlMonitor}'s mirror of the namespace's IPv4 routing tables ({@code local}, {@code main},
 * {@code default}) and rules: route notifications applied at once, the tables read again to confirm
 * after every change that may touch them, and each new {@link RoutingState} published. Written on the
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
     * Applies an IPv4 route notification to the mirror now (and reads the tables again to confirm):
     * a new route is added (a replacing one takes the place of the route of the same table, prefix,
     * TOS and metric), a deleted one removed; one that cannot be applied makes the state unknown.
     */
    void notified(int type, int flags, MemorySegment msg) throws NetlinkProtocolException {
        dirty = true;
        RouteEntry r = RouteEntry.decode(msg);
        if (r.table() != Route.TABLE_LOCAL && r.table() != Route.TABLE_MAIN && r.table() != RouteEntry.TABLE_DEFAULT) {
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
            boolean defaultRules = FibRule.defaultsOnly(queries.rules(Linux.AF_INET));
            publish(mirrored.size() > MAX_MIRRORED_ROUTES ? RoutingState.UNKNOWN
                    : new RoutingState(mirrored, defaultRules, true));
        } catch (IOException | RuntimeException e) {
            logger.debug("rtnetlink monitor of {}: cannot read the routes: {}", namespace, e.toString());
            publish(RoutingState.UNKNOWN);
        }
    }
}
