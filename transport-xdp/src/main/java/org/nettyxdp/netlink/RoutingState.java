package org.nettyxdp.netlink;

import java.util.List;

/**
 * What an IPv4 route lookup of the namespace consults, as an {@link RtnlMonitor} last read it: the
 * routes of the {@code local}, {@code main} and {@code default} tables, and whether the policy rules
 * are the kernel's three defaults (then those tables, in that order, are all a lookup consults).
 * Immutable; a monitor publishes a new one after every change.
 *
 * @param routes       the IPv4 routes of tables 255, 254 and 253
 * @param defaultRules whether the IPv4 rules are exactly {@code local}, {@code main}, {@code default}
 * @param known        false while the state is being read again after a change (or could not be
 *                     read): nothing can be concluded from it
 */
public record RoutingState(List<RouteEntry> routes, boolean defaultRules, boolean known) {
    /** Nothing known: a change is being followed, or the tables could not be read. */
    public static final RoutingState UNKNOWN = new RoutingState(List.of(), false, false);

    public RoutingState {
        routes = List.copyOf(routes);
    }
}
