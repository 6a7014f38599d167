package org.nettyxdp.netlink;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.sys.Linux;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Follows the network state of one network namespace from rtnetlink notifications (the link,
 * IPv4/IPv6 address, neighbour and IPv4/IPv6 route multicast groups), on a daemon thread of its own,
 * and tells its {@link Listener}s what changed. Once a second it also re-reads the interfaces, which
 * catches what sends no notification (an XDP link detached with {@code bpftool link detach}) and
 * lets listeners poll what netlink does not report ({@link Listener#tick()}).
 *
 * <p>One monitor per namespace and process, shared by reference count: {@link #subscribe} opens it in
 * the calling thread's namespace; the last {@link Subscription#close()} stops it. Listeners run on the
 * monitor's thread and must not block: hand the work to the thread that owns the state.
 *
 * <p>The monitor dispatches what its {@link NotificationSocket} receives to the state it keeps: the
 * interfaces and addresses ({@link LinkTable}), the neighbours ({@link NeighbourTable}) and the IPv4
 * routing state ({@link RoutingMirror}).
 */
public final class RtnlMonitor {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(RtnlMonitor.class);
    private static final Map<String, RtnlMonitor> MONITORS = new HashMap<>();

    private static final int RTM_DELLINK = 17;
    private static final int RTM_DELADDR = 21;
    private static final int RTM_DELROUTE = RoutingMirror.RTM_DELROUTE;
    private static final int RTM_DELNEIGH = 29;
    private static final long POLL_NANOS = 1_000_000_000L;

    /** What a monitor reports; every method has an empty default. Called on the monitor's thread. */
    public interface Listener {
        /** An interface appeared or changed (flags, MTU, MAC, queues, XDP attachment). */
        default void linkChanged(LinkInfo link) {
        }

        /** The interface {@code ifindex}, last named {@code name}, was deleted. */
        default void linkDeleted(int ifindex, String name) {
        }

        /** The addresses of interface {@code ifindex} changed; {@code addresses} is the new complete list. */
        default void addressesChanged(int ifindex, List<InetAddress> addresses) {
        }

        /** A neighbour entry of {@code ifindex} changed its MAC, became unusable or was deleted. */
        default void neighbourChanged(int ifindex, InetAddress address) {
        }

        /**
         * A route was added or removed: the path to destinations through interface {@code oif} (0: to
         * any destination, e.g. after lost notifications or for a multipath route) may have changed.
         */
        default void routesChanged(int oif) {
        }

        /**
         * The IPv4 routing tables or rules changed ({@link RtnlMonitor#routing()}): {@code state} is
         * the new one, possibly {@link RoutingState#UNKNOWN} while they are read again.
         */
        default void routingChanged(RoutingState state) {
        }

        /** Called about once a second, after the interfaces were re-read. */
        default void tick() {
        }
    }

    /** A listener's registration; {@link #close()} removes it (and stops the monitor after the last one). */
    public interface Subscription extends AutoCloseable {
        /** The monitor reporting to this subscription. */
        RtnlMonitor monitor();

        @Override
        void close();
    }

    private final String namespace;
    private final NotificationSocket socket;
    private final RtNetlink queries;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final LinkTable links = new LinkTable();
    private final NeighbourTable neighbours = new NeighbourTable();
    private final RoutingMirror routing;
    private final NotificationSocket.Handler handler = new NotificationSocket.Handler() {
        @Override
        public void notified(int type, MemorySegment msg) throws NetlinkProtocolException {
            handle(type, msg);
        }

        @Override
        public void malformed(NetlinkProtocolException e) {
            logger.debug("rtnetlink monitor: skipping a malformed notification: {}", e.getMessage());
            routing.changed();
        }

        @Override
        public void overrun() throws IOException {
            // notifications were lost: read the state again and report everything
            logger.debug("rtnetlink monitor of {} overran; resynchronising", namespace);
            resync(true);
        }
    };
    private int users;
    private volatile boolean closed;

    private RtnlMonitor(String namespace) throws IOException {
        this.namespace = namespace;
        NotificationSocket s = new NotificationSocket();
        RtNetlink q = null;
        try {
            q = new RtNetlink();
            this.queries = q;
            this.routing = new RoutingMirror(namespace, state -> notify(l -> l.routingChanged(state)));
            resync(false);
        } catch (IOException | RuntimeException e) {
            s.close();
            if (q != null) {
                q.close();
            }
            throw e;
        }
        this.socket = s;
        // a thread inherits its creator's network namespace; the socket is bound to it anyway
        Thread.ofPlatform().name("xdp-rtnl-monitor").daemon().start(this::run);
    }

    /**
     * Registers {@code listener} with the monitor of the calling thread's network namespace, starting
     * it if needed.
     */
    public static Subscription subscribe(Listener listener) throws IOException {
        Objects.requireNonNull(listener, "listener");
        String ns = currentNamespace();
        RtnlMonitor m;
        synchronized (MONITORS) {
            m = MONITORS.get(ns);
            if (m == null) {
                m = new RtnlMonitor(ns);
                MONITORS.put(ns, m);
            }
            m.users++;
            m.listeners.add(listener);
        }
        RtnlMonitor monitor = m;
        return new Subscription() {
            private boolean done;

            @Override
            public RtnlMonitor monitor() {
                return monitor;
            }

            @Override
            public void close() {
                synchronized (MONITORS) {
                    if (done) {
                        return;
                    }
                    done = true;
                    monitor.listeners.remove(listener);
                    if (--monitor.users == 0) {
                        MONITORS.remove(monitor.namespace);
                        monitor.closed = true;
                    }
                }
            }
        };
    }

    /** An identifier of the calling thread's network namespace ({@code net:[inode]}). */
    static String currentNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "net:[unknown]";
        }
    }

    /** The interface {@code ifindex} as last reported, or null if it does not exist. */
    public LinkInfo link(int ifindex) {
        return links.link(ifindex);
    }

    /**
     * Asks the kernel for interface {@code ifindex} now (not from the last report), e.g. for state
     * that changes without a notification such as an XDP link's detachment; null if it is gone.
     */
    public LinkInfo query(int ifindex) {
        try {
            return queries.link(ifindex);
        } catch (IOException | IllegalStateException e) {
            return null;
        }
    }

    /** Every interface of the namespace as last reported. */
    public List<LinkInfo> links() {
        return links.links();
    }

    /** The addresses of interface {@code ifindex} as last reported. */
    public List<InetAddress> addresses(int ifindex) {
        return links.addresses(ifindex);
    }

    /**
     * The IPv4 routes and rules as last known. The route notifications waiting are applied to the mirror
     * together (published as one change)
     * and the tables are read again to confirm it; so are they after a link or address change (the
     * kernel removes the routes of a link that went down without a notification). A rule change,
     * lost notifications or a notification the mirror cannot apply make it {@link RoutingState#UNKNOWN}
     * until read again. Any thread, no blocking.
     */
    public RoutingState routing() {
        return routing.state();
    }

    /**
     * The MAC of the neighbour {@code address} on {@code ifindex} as last reported, in a state the
     * kernel sends with ({@link Neighbour#isValid()}); 0 if none is known. Any thread, no blocking.
     */
    public long neighbourMac(int ifindex, InetAddress address) {
        return neighbours.mac(ifindex, address);
    }

    /**
     * As {@link #neighbourMac(int, InetAddress)} for the IPv4 neighbour {@code ipv4} (the address as an
     * int, as {@link java.net.Inet4Address#hashCode()} gives it), allocating nothing.
     */
    public long neighbourMac(int ifindex, int ipv4) {
        return neighbours.mac(ifindex, ipv4);
    }

    // ------------------------------------------------------------------------------- monitor thread

    private void run() {
        long nextPoll = System.nanoTime() + POLL_NANOS;
        try {
            while (!closed) {
                boolean received = socket.receive(handler);
                routing.flush(); // the burst's routes as one change, then confirmed by reading them
                if (received && routing.isDirty()) {
                    routing.read(queries);
                }
                if (System.nanoTime() - nextPoll >= 0 && !closed) {
                    nextPoll = System.nanoTime() + POLL_NANOS;
                    poll();
                    if (routing.isDirty()) {
                        routing.read(queries);
                    }
                }
            }
        } catch (Throwable t) {
            logger.warn("rtnetlink monitor of {} stopped: network changes are no longer followed", namespace, t);
        } finally {
            socket.close();
            queries.close();
        }
    }

    private void handle(int type, MemorySegment msg) throws NetlinkProtocolException {
        switch (type) {
            case Rtnl.RTM_NEWLINK -> {
                LinkInfo link = LinkInfo.decode(msg);
                if (links.put(link)) {
                    routing.markDirty(); // a link going down takes its routes along without a notification
                    notify(l -> l.linkChanged(link));
                }
            }
            case Rtnl.RTM_NEWRULE, Rtnl.RTM_DELRULE -> routing.changed();
            case RTM_DELLINK -> {
                LinkInfo link = LinkInfo.decode(msg);
                deleted(link.index(), link.name());
            }
            case Rtnl.RTM_NEWADDR, RTM_DELADDR -> {
                routing.markDirty();
                AddressInfo a = AddressInfo.decode(msg);
                List<InetAddress> now = links.address(a.ifindex(), a.address(), type == RTM_DELADDR);
                if (now != null) {
                    notify(l -> l.addressesChanged(a.ifindex(), now));
                }
            }
            case Rtnl.RTM_NEWNEIGH, RTM_DELNEIGH -> {
                Neighbour nb = Neighbour.decode(msg);
                if (neighbours.update(nb, type == RTM_DELNEIGH)) {
                    notify(l -> l.neighbourChanged(nb.ifindex(), nb.address()));
                }
            }
            case Rtnl.RTM_NEWROUTE, RTM_DELROUTE -> routeChanged(type, msg);
            default -> {
            }
        }
    }

    /** A route notification: applied to the IPv4 routing state, and reported unless no next hop changes. */
    private void routeChanged(int type, MemorySegment msg) throws NetlinkProtocolException {
        boolean full = msg.byteSize() >= NlMsgHdr.SIZE + RtMsg.SIZE;
        if (!full) {
            routing.changed();
        } else if (msg.get(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY) == Linux.AF_INET) {
            routing.notified(type, NlMsgHdr.flags(msg, 0), msg);
        }
        if (full) {
            int rtType = Byte.toUnsignedInt(msg.get(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.TYPE));
            if (rtType == Route.RTN_LOCAL || rtType == Route.RTN_BROADCAST || rtType == Route.RTN_MULTICAST
                    || rtType == Route.RTN_ANYCAST) {
                return; // this host's own, broadcast and multicast entries: no unicast next hop changes
            }
        }
        int oif = full
                ? NlAttrs.parse(msg, NlMsgHdr.SIZE + RtMsg.SIZE, (int) msg.byteSize(), Rtnl.RTA_MAX).u32(Rtnl.RTA_OIF, 0)
                : 0;
        notify(l -> l.routesChanged(oif));
    }

    /** Tells every listener; one that throws is logged and does not stop the others or the monitor. */
    private void notify(Consumer<Listener> call) {
        for (Listener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                logger.warn("rtnetlink monitor of {}: a listener failed", namespace, e);
            }
        }
    }

    private void deleted(int ifindex, String name) {
        if (!links.remove(ifindex)) {
            return;
        }
        routing.markDirty();
        neighbours.removeInterface(ifindex);
        notify(l -> l.linkDeleted(ifindex, name));
    }

    /** Re-reads the interfaces (reporting differences), then ticks the listeners. */
    private void poll() {
        try {
            reconcileLinks(queries.links());
        } catch (IOException e) {
            logger.debug("rtnetlink monitor of {}: cannot list interfaces: {}", namespace, e.getMessage());
        }
        notify(Listener::tick);
    }

    private void reconcileLinks(List<LinkInfo> now) {
        LinkTable.Changes c = links.reconcile(now);
        for (LinkInfo l : c.gone()) {
            deleted(l.index(), l.name());
        }
        if (!c.changed().isEmpty()) {
            routing.markDirty();
        }
        for (LinkInfo l : c.changed()) {
            notify(x -> x.linkChanged(l));
        }
    }

    /** Reads links and addresses again; {@code report}: tell the listeners everything may have changed. */
    private void resync(boolean report) throws IOException {
        routing.changed();
        List<LinkInfo> now = queries.links();
        neighbours.replaceAll(queries.neighbours(0));
        Map<Integer, List<InetAddress>> addrs = new HashMap<>();
        for (AddressInfo a : queries.addresses()) {
            addrs.computeIfAbsent(a.ifindex(), k -> new ArrayList<>()).add(a.address());
        }
        if (!report) {
            links.seed(now, addrs);
            routing.read(queries);
            return;
        }
        reconcileLinks(now);
        links.replaceAddresses(addrs);
        for (Map.Entry<Integer, List<InetAddress>> e : addrs.entrySet()) {
            List<InetAddress> list = List.copyOf(e.getValue());
            notify(l -> l.addressesChanged(e.getKey(), list));
        }
        routing.read(queries);
        notify(l -> l.routesChanged(0));
    }
}
