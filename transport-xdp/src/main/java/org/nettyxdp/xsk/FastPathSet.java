package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.netlink.LinkInfo;
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
 * <p>A {@link NetworkFollower} applies the network's changes on the channel's event loop, between
 * batches, so the hot path takes no lock: a bound address that goes away is no longer steered or sent
 * from, an interface that is deleted or whose program someone else detached falls back to the kernel
 * socket (logged once, counted in {@link #losses()}), an interface that comes back under its name (or,
 * for a wildcard bind, any new interface) gets a fast path again, and a change of an interface's MAC
 * or queue count re-opens its sockets.
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
    private volatile NetworkFollower follower;
    private volatile XdpFastPath[] legs = new XdpFastPath[0];
    /** Per flattened queue: its leg and the leg's own queue index. */
    private XdpFastPath[] legOfQueue = new XdpFastPath[0];
    private int[] queueInLeg = new int[0];
    private InetSocketAddress connectedPeer;
    private final LegOpener opener;
    private volatile long losses;
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
        this.opener = new LegOpener(this, owner, local, boundIp, settings);
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
            set.follower = NetworkFollower.subscribe(set, owner);
            List<XdpFastPath> opened = new ArrayList<>();
            for (LinkInfo link : initial) {
                if (scope == Scope.ALL || implicit) {
                    XdpFastPath leg = set.tryOpen(link);
                    if (leg != null) {
                        opened.add(leg);
                    }
                } else {
                    XdpFastPath leg = set.opener.open(link);
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
            XdpFastPath leg = opener.open(link);
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
        if (follower != null) {
            follower.close();
        }
        opener.close();
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

    /** The legs now. Any thread. */
    XdpFastPath[] legs() {
        return legs;
    }

    /** The channel's local address, for logs. */
    InetSocketAddress local() {
        return local;
    }

    /** The bound address of a bind to an address, null for a wildcard bind. */
    InetAddress boundAddress() {
        return scope == Scope.ADDRESS ? boundIp : null;
    }

    boolean isClosed() {
        return closed;
    }

    /** Someone else detached the program on interface {@code ifindex}: this channel does not re-attach there. */
    void detached(int ifindex) {
        detached.add(ifindex);
    }

    /** Interface {@code ifindex} is gone: a new one of that number is tried afresh. */
    void forget(int ifindex) {
        detached.remove(ifindex);
        failed.remove(ifindex);
    }

    /** The leg on interface {@code ifindex}, or null. */
    XdpFastPath legOn(int ifindex) {
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

    /** Closes {@code leg}, whose interface is lost to this channel: its kernel socket serves it. */
    void lose(XdpFastPath leg, String why) {
        leg.defunct();
        losses++;
        logger.warn("{}: {}; datagrams there now go through the kernel socket", local, why);
        change(leg, null);
    }

    /** Adds {@code leg}, opened late (its queue was busy). */
    void add(XdpFastPath leg) {
        change(null, leg);
    }

    /** Opens a leg on {@code link} if the bind covers it and it has none. */
    void maybeOpen(LinkInfo link) {
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
                if (link.isUp() && follower.monitor().addresses(link.index()).contains(boundIp)) {
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
            return opener.open(link);
        } catch (IOException | RuntimeException e) {
            logger.warn("{}: cannot open the fast path on {} again: {}", local, link.name(), e.getMessage());
            return null;
        }
    }

    /** Closes {@code leg} and opens it again on {@code link} (its kernel socket serves meanwhile). */
    void reopen(XdpFastPath leg, LinkInfo link, String why) {
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
}
