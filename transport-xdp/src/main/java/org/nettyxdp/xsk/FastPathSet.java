package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.RtnlMonitor;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.socket.XdpStatistics;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The fast path of one channel as the channel sees it: one {@link XdpFastPath} per interface the
 * bind covers (the interface owning the bound address, the named interface, or every interface for
 * a wildcard bind), kept in step with the network.
 *
 * <p>An {@link RtnlMonitor} reports changes on its own thread; each is applied here on the channel's
 * event loop, between batches, so the hot path takes no lock: MAC and MTU changes at once, next hops
 * looked up again after neighbour and route changes, a bound address that goes away is no longer
 * steered or sent from, an interface that is deleted or whose program someone else detached falls
 * back to the kernel socket (logged once, counted in {@link #losses()}), an interface that comes back
 * under its name (or, for a wildcard bind, any new interface) gets a fast path again, and a change of
 * an interface's queue count re-opens its sockets.
 *
 * <p>Queues are numbered across the interfaces: {@code 0 .. queueCount()-1}. Event-loop confined,
 * except where noted.
 */
public final class FastPathSet {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(FastPathSet.class);
    /**
     * System property: a regular expression of the interface names a wildcard bind may attach to
     * (default: all). Lets an operator (or a test JVM in the host's namespace) keep XDP off some NICs.
     */
    public static final String WILDCARD_INTERFACES_PROPERTY = "org.nettyxdp.wildcardInterfaces";

    /** How long, in all, an interface queue still busy with a socket closed moments ago is retried. */
    public static final long BUSY_TIMEOUT_MILLIS = BusyQueueRetry.TIMEOUT_MILLIS;

    /** What the channel does for the set. */
    public interface Owner {
        /** Runs {@code task} on the channel's event loop. */
        void execute(Runnable task);

        /** Runs {@code task} on the channel's event loop after {@code delayNanos}. */
        void schedule(Runnable task, long delayNanos);

        /** The sockets are about to change: stop watching every descriptor {@link #socketFd} gave. */
        void socketsChanging();

        /** The sockets changed: watch {@link #socketFd}{@code (0 .. queueCount()-1)}. */
        void socketsChanged();
    }

    private enum Scope {
        /** Bound to an address: the interfaces carrying it. */
        ADDRESS,
        /** Wildcard with {@code INTERFACE}: that interface, by name. */
        INTERFACE,
        /** Wildcard: every interface XDP can attach to. */
        ALL
    }

    private final Scope scope;
    private final InetAddress boundIp;
    private final String interfaceName;
    private final InetSocketAddress local;
    private final FastPathSettings settings;
    private final Owner owner;
    private final Pattern wildcardFilter;
    /** Opened by an implicit bind (first write, connect without bind): the wildcard filter applies. */
    private final boolean implicit;
    private final FastPathCounters retired = new FastPathCounters();
    /** Interfaces (by index) whose program someone else detached: not re-attached by this channel. */
    private final Set<Integer> detached = new HashSet<>();
    /** Interfaces (by name) already logged as unusable. */
    private final Set<String> refused = new HashSet<>();
    /** Interfaces (by index) a wildcard leg failed on: not tried again until re-created. */
    private final Set<Integer> failed = new HashSet<>();
    private volatile RtnlMonitor.Subscription subscription;
    private volatile XdpFastPath[] legs = new XdpFastPath[0];
    /** Per flattened queue: its leg and the leg's own queue index. */
    private XdpFastPath[] legOfQueue = new XdpFastPath[0];
    private int[] queueInLeg = new int[0];
    private InetSocketAddress connectedPeer;
    /** Fast paths waiting for a busy queue, retried on the event loop. */
    private final List<FastPathOpening> pending = new ArrayList<>();
    private volatile long losses;
    /** How long neighbour and route changes settle before next hops are looked up again. */
    private static final long HOPS_SETTLE_NANOS = 20_000_000L;
    private final Set<Integer> hopsDirty = new HashSet<>();
    private boolean hopsDirtyAll;
    private boolean hopsScheduled;
    private boolean closed;

    private FastPathSet(Scope scope, InetAddress boundIp, String interfaceName, InetSocketAddress local,
                        FastPathSettings settings, Owner owner, boolean implicit) {
        this.scope = scope;
        this.boundIp = boundIp;
        this.interfaceName = interfaceName;
        this.local = local;
        this.settings = settings;
        this.owner = owner;
        String filter = System.getProperty(WILDCARD_INTERFACES_PROPERTY);
        this.wildcardFilter = filter == null || filter.isEmpty() ? null : Pattern.compile(filter);
        this.implicit = implicit;
    }

    /**
     * The set of a channel bound to {@code boundIp} (null: wildcard), on {@code links} to start with;
     * {@code implicit} for a bind the kernel made (the wildcard filter then applies to every scope).
     */
    static FastPathSet open(InetAddress boundIp, String interfaceName, InetSocketAddress local,
                            FastPathSettings settings, Owner owner, List<LinkInfo> initial, boolean implicit)
            throws IOException {
        Scope scope = boundIp != null ? Scope.ADDRESS : interfaceName != null ? Scope.INTERFACE : Scope.ALL;
        FastPathSet set = new FastPathSet(scope, boundIp, interfaceName, local, settings, owner, implicit);
        try {
            set.subscription = RtnlMonitor.subscribe(set.new Follower());
            List<XdpFastPath> opened = new ArrayList<>();
            for (LinkInfo link : initial) {
                if (scope == Scope.ALL || implicit) {
                    XdpFastPath leg = set.tryOpen(link);
                    if (leg != null) {
                        opened.add(leg);
                    }
                } else {
                    XdpFastPath leg = set.openLeg(link);
                    if (leg != null) {
                        opened.add(leg);
                    }
                }
            }
            set.setLegs(opened.toArray(new XdpFastPath[0]));
            return set;
        } catch (IOException | RuntimeException e) {
            set.close();
            throw e;
        }
    }

    private boolean allowed(LinkInfo link) {
        return wildcardFilter == null || wildcardFilter.matcher(link.name()).matches();
    }

    /** A leg on {@code link} for a wildcard or implicit bind, or null (logged once) where XDP cannot serve it. */
    private XdpFastPath tryOpen(LinkInfo link) {
        if (!link.isUp() || !(link.isEthernet() || link.isLoopback()) || !allowed(link)
                || failed.contains(link.index())) {
            return null;
        }
        try {
            XdpFastPath leg = openLeg(link);
            refused.remove(link.name());
            return leg;
        } catch (IOException | RuntimeException e) {
            failed.add(link.index());
            if (refused.add(link.name())) {
                logger.info("{}: no fast path on {} ({}); the kernel socket serves it", local, link.name(),
                        e.getMessage());
            }
            return null;
        }
    }

    /**
     * Opens a fast path on {@code link} without ever blocking: at once, or, while a queue is still busy
     * with a socket closed moments ago, later on the event loop (then null now; the leg joins when
     * ready, or a WARN says why not after {@link #BUSY_TIMEOUT_MILLIS}).
     */
    private XdpFastPath openLeg(LinkInfo link) throws IOException {
        FastPathOpening opening = new FastPathOpening(link, local, boundIp, false, settings);
        try {
            return opening.attempt();
        } catch (BindBusyException e) {
            logger.debug("{}: a queue of {} is busy; the kernel socket serves until it is free", local, link.name());
            pending.add(opening);
            BusyQueueRetry busy = new BusyQueueRetry(owner::schedule);
            busy.retryLater(e, () -> retry(opening, link, busy));
            return null;
        }
    }

    private void retry(FastPathOpening opening, LinkInfo link, BusyQueueRetry busy) {
        if (!pending.remove(opening)) {
            return; // abandoned by close()
        }
        if (closed) {
            opening.abandon();
            return;
        }
        try {
            XdpFastPath leg = opening.attempt();
            change(null, leg);
        } catch (BindBusyException e) {
            if (!busy.retryLater(e, () -> retry(opening, link, busy))) {
                opening.abandon();
                logger.warn("{}: a queue of {} was still busy after {} ms; the kernel socket serves it", local,
                        link.name(), BUSY_TIMEOUT_MILLIS);
                return;
            }
            pending.add(opening);
        } catch (IOException | RuntimeException e) {
            logger.warn("{}: cannot open the fast path on {}: {}; the kernel socket serves it", local, link.name(),
                    e.getMessage());
        }
    }

    private void setLegs(XdpFastPath[] now) {
        int total = 0;
        for (XdpFastPath leg : now) {
            total += leg.queueCount();
        }
        XdpFastPath[] of = new XdpFastPath[total];
        int[] in = new int[total];
        int i = 0;
        for (XdpFastPath leg : now) {
            for (int q = 0; q < leg.queueCount(); q++, i++) {
                of[i] = leg;
                in[i] = q;
            }
            if (connectedPeer != null) {
                leg.connect(connectedPeer);
            }
        }
        legOfQueue = of;
        queueInLeg = in;
        legs = now;
    }

    // ------------------------------------------------------------------------------------ hot path

    /** True while at least one interface has a fast path. Any thread. */
    public boolean isActive() {
        return legs.length > 0;
    }

    /** The interfaces with a fast path now, in order. Any thread. */
    public List<String> interfaces() {
        List<String> names = new ArrayList<>();
        for (XdpFastPath leg : legs) {
            names.add(leg.link().name());
        }
        return names;
    }

    /**
     * The fast path on the first interface, where {@code SO_REUSEPORT} sharding is reported (which
     * of its RX queues this channel owns, per-queue counts), or null without one. Any thread.
     */
    public XdpFastPath first() {
        XdpFastPath[] l = legs;
        return l.length == 0 ? null : l[0];
    }

    /** Sockets to watch for received frames, over all interfaces. */
    public int queueCount() {
        return legOfQueue.length;
    }

    public int socketFd(int queue) {
        return legOfQueue[queue].socketFd(queueInLeg[queue]);
    }

    /** The queue whose socket is {@code fd}, or -1. */
    public int queueOf(int fd) {
        for (int q = 0; q < legOfQueue.length; q++) {
            if (legOfQueue[q].socketFd(queueInLeg[q]) == fd) {
                return q;
            }
        }
        return -1;
    }

    /** As {@link XdpFastPath#receive}, for queue {@code q} of the set. */
    public int receive(int q, int max, XdpFastPath.DatagramSink sink) {
        return legOfQueue[q].receive(queueInLeg[q], max, sink);
    }

    /** Restricts RX to datagrams from {@code peer} (null: from anyone). */
    public void connect(InetSocketAddress peer) {
        connectedPeer = peer;
        for (XdpFastPath leg : legs) {
            leg.connect(peer);
        }
    }

    /** A frame buffer of the first interface's fast path, or null. Any thread. */
    public UmemByteBuf frameBuffer() {
        XdpFastPath[] l = legs;
        return l.length == 0 ? null : l[0].frameBuffer();
    }

    /**
     * Queues {@code content} on the interface the kernel routes {@code recipient} through: the one
     * whose frame holds it first (a reply usually leaves where its request came in), then the others.
     */
    public XdpFastPath.SendResult send(ByteBuf content, InetSocketAddress recipient) {
        XdpFastPath[] l = legs;
        if (l.length == 1) {
            return l[0].send(content, recipient);
        }
        XdpFastPath first = null;
        if (content instanceof UmemByteBuf u) {
            for (XdpFastPath leg : l) {
                if (leg.owns(u)) {
                    first = leg;
                    XdpFastPath.SendResult r = leg.send(content, recipient);
                    if (r != XdpFastPath.SendResult.SLOW_PATH) {
                        return r;
                    }
                    break;
                }
            }
        }
        for (XdpFastPath leg : l) {
            if (leg != first) {
                XdpFastPath.SendResult r = leg.send(content, recipient);
                if (r != XdpFastPath.SendResult.SLOW_PATH) {
                    return r;
                }
            }
        }
        return XdpFastPath.SendResult.SLOW_PATH;
    }

    /** Publishes the queued frames of every interface. */
    public void flush() {
        for (XdpFastPath leg : legs) {
            leg.flush();
        }
    }

    // ------------------------------------------------------------------------------------- metrics

    /** The counters of every fast path this channel had, summed. Any thread. */
    public FastPathCounters counters() {
        FastPathCounters sum = new FastPathCounters();
        synchronized (retired) {
            retired.addTo(sum);
        }
        for (XdpFastPath leg : legs) {
            leg.counters().addTo(sum);
        }
        return sum;
    }

    /** Times an interface's fast path was lost (interface deleted, program detached by someone else). */
    public long losses() {
        return losses;
    }

    /** Kernel counters of the current sockets, summed. */
    public XdpStatistics statistics() {
        XdpStatistics sum = XdpStatistics.ZERO;
        for (XdpFastPath leg : legs) {
            sum = sum.plus(leg.statistics());
        }
        return sum;
    }

    /** Frame accounting of every queue of every interface. */
    public FrameAccounting[] accounting() {
        List<FrameAccounting> all = new ArrayList<>();
        for (XdpFastPath leg : legs) {
            all.addAll(Arrays.asList(leg.accounting()));
        }
        return all.toArray(new FrameAccounting[0]);
    }

    /** Closes every fast path and stops following the network. Idempotent. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (subscription != null) {
            subscription.close();
        }
        for (FastPathOpening opening : pending) {
            opening.abandon();
        }
        pending.clear();
        XdpFastPath[] l = legs;
        legs = new XdpFastPath[0];
        legOfQueue = new XdpFastPath[0];
        queueInLeg = new int[0];
        for (XdpFastPath leg : l) {
            leg.close();
            // a closed channel's metrics still count what its fast paths did
            synchronized (retired) {
                leg.counters().addTo(retired);
            }
        }
    }

    // ------------------------------------------------------------------------- following the network

    private XdpFastPath legOn(int ifindex) {
        for (XdpFastPath leg : legs) {
            if (leg.ifindex() == ifindex) {
                return leg;
            }
        }
        return null;
    }

    /** Replaces the legs: {@code remove} closed (its counters kept), {@code add} added. */
    private void change(XdpFastPath remove, XdpFastPath add) {
        owner.socketsChanging();
        List<XdpFastPath> now = new ArrayList<>(Arrays.asList(legs));
        if (remove != null) {
            now.remove(remove);
        }
        if (add != null) {
            now.add(add);
        }
        setLegs(now.toArray(new XdpFastPath[0]));
        if (remove != null) {
            synchronized (retired) {
                remove.counters().addTo(retired);
            }
            remove.close();
        }
        owner.socketsChanged();
    }

    private void lose(XdpFastPath leg, String why) {
        leg.defunct();
        losses++;
        logger.warn("{}: {}; datagrams there now go through the kernel socket", local, why);
        change(leg, null);
    }

    /** Opens a leg on {@code link} if the bind covers it and it has none. */
    private void maybeOpen(LinkInfo link) {
        if (closed || legOn(link.index()) != null || detached.contains(link.index())) {
            return;
        }
        XdpFastPath leg = null;
        switch (scope) {
            case ALL -> leg = tryOpen(link);
            case INTERFACE -> {
                if (link.name().equals(interfaceName) && link.isUp()) {
                    leg = openOrLog(link);
                }
            }
            case ADDRESS -> {
                if (link.isUp() && subscription.monitor().addresses(link.index()).contains(boundIp)) {
                    leg = openOrLog(link);
                }
            }
        }
        if (leg != null) {
            logger.info("{}: fast path on {}", local, link.name());
            change(null, leg);
        }
    }

    private XdpFastPath openOrLog(LinkInfo link) {
        if (implicit && !allowed(link)) {
            return null;
        }
        try {
            return openLeg(link);
        } catch (IOException | RuntimeException e) {
            logger.warn("{}: cannot open the fast path on {} again: {}", local, link.name(), e.getMessage());
            return null;
        }
    }

    /**
     * Applies {@code link}; {@code queriedNanos} is when the kernel was asked for a report that shows
     * no XDP program (reports older than a fast path say nothing about its program).
     */
    private void onLinkChanged(LinkInfo link, long queriedNanos) {
        if (closed) {
            return;
        }
        XdpFastPath leg = legOn(link.index());
        if (leg == null) {
            maybeOpen(link);
            return;
        }
        if (!link.xdp().isAttached()) {
            if (queriedNanos - leg.openedNanos() < 0) {
                return; // the report predates our attachment
            }
            detached.add(link.index());
            lose(leg, "the XDP program on " + link.name() + " was detached by someone else");
            return;
        }
        long mac = link.mac() == null ? 0 : link.mac().toLong();
        LinkInfo was = leg.link();
        long oldMac = was.mac() == null ? 0 : was.mac().toLong();
        if (mac != oldMac && !link.isLoopback()) {
            // the steering program has the interface's MAC built in: attach one for the new MAC
            reopen(leg, link, link.name() + " changed its MAC address");
            return;
        }
        leg.linkChanged(link);
    }

    private void onLinkDeleted(int ifindex, String name) {
        detached.remove(ifindex);
        failed.remove(ifindex);
        XdpFastPath leg = legOn(ifindex);
        if (!closed && leg != null) {
            lose(leg, "interface " + name + " was deleted");
        }
    }

    private void onAddressesChanged(int ifindex, List<InetAddress> addresses) {
        if (closed || scope != Scope.ADDRESS) {
            return; // wildcard: the steering program's local-address map follows addresses (bpf)
        }
        XdpFastPath leg = legOn(ifindex);
        boolean present = addresses.contains(boundIp);
        if (leg == null) {
            if (present) {
                LinkInfo link = subscription.monitor().link(ifindex);
                if (link != null) {
                    maybeOpen(link);
                }
            }
            return;
        }
        try {
            leg.setAddressPresent(present);
        } catch (IOException | RuntimeException e) {
            lose(leg, "cannot update the steering of " + leg.link().name() + ": " + e.getMessage());
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
        for (XdpFastPath leg : legs) {
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
        if (closed || legOn(leg.ifindex()) != leg || leg.queueCount() == queues) {
            return;
        }
        LinkInfo link = subscription.monitor().link(leg.ifindex());
        if (link == null) {
            return;
        }
        reopen(leg, link, link.name() + " now has " + queues + " RX queues (was " + leg.queueCount() + ")");
    }

    /** Closes {@code leg} and opens it again on {@code link} (its kernel socket serves meanwhile). */
    private void reopen(XdpFastPath leg, LinkInfo link, String why) {
        logger.info("{}: {}; re-opening its fast path", local, why);
        owner.socketsChanging();
        List<XdpFastPath> now = new ArrayList<>(Arrays.asList(legs));
        now.remove(leg);
        setLegs(now.toArray(new XdpFastPath[0]));
        synchronized (retired) {
            leg.counters().addTo(retired);
        }
        leg.close();
        leg.defunct(); // the steering maps are sized for the old queue count
        XdpFastPath fresh = openOrLog(link);
        if (fresh != null) {
            now.add(fresh);
            setLegs(now.toArray(new XdpFastPath[0]));
        } else {
            losses++;
        }
        owner.socketsChanged();
    }

    /** Receives the monitor's reports on its thread and hands them to the event loop. */
    private final class Follower implements RtnlMonitor.Listener {
        @Override
        public void linkChanged(LinkInfo link) {
            if (link.xdp().isAttached()) {
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

        @Override
        public void linkDeleted(int ifindex, String name) {
            owner.execute(() -> onLinkDeleted(ifindex, name));
        }

        @Override
        public void addressesChanged(int ifindex, List<InetAddress> addresses) {
            // the steering programs' local-address maps, here on the monitor's thread (in the namespace)
            for (XdpFastPath leg : legs) {
                try {
                    leg.refreshInterfaceAddresses();
                } catch (IOException | RuntimeException e) {
                    logger.debug("{}: cannot refresh the local addresses of {}: {}", local, leg.link().name(),
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
            for (XdpFastPath leg : legs) {
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
            for (XdpFastPath leg : legs) {
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
    }
}
