package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.RtnlMonitor;

import java.io.IOException;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps one {@link FastPathSet} in step with the network: takes the {@link RtnlMonitor}'s reports on
 * its thread and applies each on the channel's event loop, between batches (so the hot path takes no
 * lock), as the set's leg changes: MAC and MTU at once (the steering entries' frame limit follows the
 * MTU on the monitor's thread), next hops after neighbour and route changes
 * have settled, a bound address coming and going, an interface deleted, detached by someone else,
 * appearing, or changing its queue count.
 */
final class NetworkFollower implements RtnlMonitor.Listener {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(FastPathSet.class);
    /** How long neighbour and route changes settle before next hops are looked up again. */
    private static final long HOPS_SETTLE_NANOS = 20_000_000L;

    private final FastPathSet set;
    private final FastPathSet.Owner owner;
    private volatile RtnlMonitor.Subscription subscription;
    /** Event loop: interfaces whose next hops changed since the last look-up (all of them: {@link #hopsDirtyAll}). */
    private final Set<Integer> hopsDirty = new HashSet<>();
    private boolean hopsDirtyAll;
    private boolean hopsScheduled;

    private NetworkFollower(FastPathSet set, FastPathSet.Owner owner) {
        this.set = set;
        this.owner = owner;
    }

    /** Starts following the network for {@code set}; {@link #close()} stops. */
    static NetworkFollower subscribe(FastPathSet set, FastPathSet.Owner owner) throws IOException {
        NetworkFollower follower = new NetworkFollower(set, owner);
        follower.subscription = RtnlMonitor.subscribe(follower);
        return follower;
    }

    /** The monitor's current view of the network. */
    RtnlMonitor monitor() {
        return subscription.monitor();
    }

    /** Stops following. */
    void close() {
        RtnlMonitor.Subscription sub = subscription;
        if (sub != null) {
            sub.close();
        }
    }

    // ----------------------------------------------------------------------- the monitor's thread

    @Override
    public void linkChanged(LinkInfo link) {
        if (link.xdp().isAttached()) {
            followMtu(link);
            owner.execute(() -> onLinkChanged(link, 0));
            return;
        }
        // a notification may have waited in the socket since before our attachment: ask again
        RtnlMonitor.Subscription sub = subscription;
        long asked = System.nanoTime();
        LinkInfo now = sub == null ? null : sub.monitor().query(link.index());
        if (now != null) {
            owner.execute(() -> onLinkChanged(now, asked));
        }
    }

    /** The steering entries' frame limits follow the MTU here, on the monitor's thread (as addresses do). */
    private void followMtu(LinkInfo link) {
        for (XdpFastPath leg : set.legs()) {
            if (leg.ifindex() != link.index()) {
                continue;
            }
            try {
                leg.followMtu(link);
            } catch (IOException | RuntimeException e) {
                logger.debug("{}: cannot follow the MTU of {}: {}", set.local(), link.name(), e.toString());
            }
        }
    }

    @Override
    public void linkDeleted(int ifindex, String name) {
        owner.execute(() -> onLinkDeleted(ifindex, name));
    }

    @Override
    public void addressesChanged(int ifindex, List<InetAddress> addresses) {
        // the steering programs' local-address maps, here on the monitor's thread (in the namespace)
        for (XdpFastPath leg : set.legs()) {
            try {
                leg.refreshInterfaceAddresses();
            } catch (IOException | RuntimeException e) {
                logger.debug("{}: cannot refresh the local addresses of {}: {}", set.local(), leg.link().name(),
                        e.toString());
            }
        }
        owner.execute(() -> onAddressesChanged(ifindex, addresses));
    }

    @Override
    public void neighbourChanged(int ifindex, InetAddress address) {
        owner.execute(() -> onNextHopsChanged(ifindex));
    }

    @Override
    public void routesChanged(int oif) {
        if (oif == 0) {
            owner.execute(() -> onNextHopsChanged(0));
            return;
        }
        for (XdpFastPath leg : set.legs()) {
            // routes of other interfaces (other hosts' veths, their local-table entries) are noise
            // here; the ones through ours may change our next hops
            if (leg.ifindex() == oif) {
                owner.execute(() -> onNextHopsChanged(oif));
                return;
            }
        }
    }

    @Override
    public void tick() {
        RtnlMonitor.Subscription sub = subscription;
        if (sub == null) {
            return; // still opening
        }
        for (XdpFastPath leg : set.legs()) {
            LinkInfo link = sub.monitor().link(leg.ifindex());
            if (link != null && !link.xdp().isAttached()) {
                // the cached state may predate our attachment (which sends no notification): ask
                long asked = System.nanoTime();
                LinkInfo now = sub.monitor().query(leg.ifindex());
                if (now != null && !now.xdp().isAttached()) {
                    owner.execute(() -> onLinkChanged(now, asked));
                    continue;
                }
            }
            if (link != null) {
                int queues = XdpInterface.activeRxQueues(link);
                if (queues != leg.queueCount()) {
                    owner.execute(() -> onQueuesChanged(leg, queues));
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------- event loop

    /**
     * Applies {@code link}; {@code queriedNanos} is when the kernel was asked for a report that shows
     * no XDP program (reports older than a fast path say nothing about its program).
     */
    private void onLinkChanged(LinkInfo link, long queriedNanos) {
        if (set.isClosed()) {
            return;
        }
        XdpFastPath leg = set.legOn(link.index());
        if (leg == null) {
            set.maybeOpen(link);
            return;
        }
        if (!link.xdp().isAttached()) {
            if (queriedNanos - leg.openedNanos() < 0) {
                return; // the report predates our attachment
            }
            set.detached(link.index());
            set.lose(leg, "the XDP program on " + link.name() + " was detached by someone else");
            return;
        }
        long mac = link.mac() == null ? 0 : link.mac().toLong();
        LinkInfo was = leg.link();
        long oldMac = was.mac() == null ? 0 : was.mac().toLong();
        if (mac != oldMac && !link.isLoopback()) {
            // the steering program has the interface's MAC built in: attach one for the new MAC
            set.reopen(leg, link, link.name() + " changed its MAC address");
            return;
        }
        leg.linkChanged(link);
    }

    private void onLinkDeleted(int ifindex, String name) {
        set.forget(ifindex);
        XdpFastPath leg = set.legOn(ifindex);
        if (!set.isClosed() && leg != null) {
            set.lose(leg, "interface " + name + " was deleted");
        }
    }

    private void onAddressesChanged(int ifindex, List<InetAddress> addresses) {
        InetAddress boundIp = set.boundAddress();
        if (set.isClosed() || boundIp == null) {
            return; // wildcard: the steering program's local-address map follows addresses (bpf)
        }
        XdpFastPath leg = set.legOn(ifindex);
        boolean present = addresses.contains(boundIp);
        if (leg == null) {
            if (present) {
                LinkInfo link = monitor().link(ifindex);
                if (link != null) {
                    set.maybeOpen(link);
                }
            }
            return;
        }
        try {
            leg.setAddressPresent(present);
        } catch (IOException | RuntimeException e) {
            set.lose(leg, "cannot update the steering of " + leg.link().name() + ": " + e.getMessage());
        }
    }

    /**
     * A neighbour or route changed: the next hops of the affected legs are looked up again, after
     * {@link #HOPS_SETTLE_NANOS} (changes come in bursts, and a link going down flushes its neighbours
     * and routes before it reports itself down: its hops stay, and what is queued waits for the link
     * or the TX drain timeout instead of leaving by another route).
     */
    private void onNextHopsChanged(int ifindex) {
        if (ifindex == 0) {
            hopsDirtyAll = true;
        } else {
            hopsDirty.add(ifindex);
        }
        if (!hopsScheduled) {
            hopsScheduled = true;
            owner.schedule(this::invalidateNextHops, HOPS_SETTLE_NANOS);
        }
    }

    private void invalidateNextHops() {
        hopsScheduled = false;
        RtnlMonitor.Subscription sub = subscription;
        for (XdpFastPath leg : set.legs()) {
            LinkInfo link = sub == null ? null : sub.monitor().link(leg.ifindex());
            if (link != null && !link.isUp()) {
                continue;
            }
            if (hopsDirtyAll || hopsDirty.contains(leg.ifindex())) {
                leg.invalidateNextHops();
            }
        }
        hopsDirtyAll = false;
        hopsDirty.clear();
    }

    /** Re-opens a leg whose interface now has another number of RX queues. */
    private void onQueuesChanged(XdpFastPath leg, int queues) {
        if (set.isClosed() || set.legOn(leg.ifindex()) != leg || leg.queueCount() == queues) {
            return;
        }
        LinkInfo link = monitor().link(leg.ifindex());
        if (link == null) {
            return;
        }
        set.reopen(leg, link, link.name() + " now has " + queues + " RX queues (was " + leg.queueCount() + ")");
    }
}
