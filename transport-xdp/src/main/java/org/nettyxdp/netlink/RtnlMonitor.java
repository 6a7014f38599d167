package org.nettyxdp.netlink;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

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
 */
public final class RtnlMonitor {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(RtnlMonitor.class);
    private static final Map<String, RtnlMonitor> MONITORS = new HashMap<>();

    private static final int RTMGRP_LINK = 0x1;
    private static final int RTMGRP_NEIGH = 0x4;
    private static final int RTMGRP_IPV4_IFADDR = 0x10;
    private static final int RTMGRP_IPV4_ROUTE = 0x40;
    private static final int RTMGRP_IPV4_RULE = 0x80;
    private static final int RTMGRP_IPV6_IFADDR = 0x100;
    private static final int RTMGRP_IPV6_ROUTE = 0x400;
    private static final int RTM_DELLINK = 17;
    private static final int RTM_DELADDR = 21;
    private static final int RTM_DELROUTE = RoutingMirror.RTM_DELROUTE;
    private static final int RTM_DELNEIGH = 29;
    private static final int SO_RCVBUF = 8;
    private static final int SO_RCVBUFFORCE = 33;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int BUFFER = 256 * 1024;
    private static final long POLL_NANOS = 1_000_000_000L;
    /** Receive timeout: how soon a closed monitor's thread notices. */
    private static final long WAIT_MILLIS = 200;

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
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rx;
    private final RtNetlink queries;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    /** Interfaces by index, as last reported. Guarded by this. */
    private final Map<Integer, LinkInfo> links = new HashMap<>();
    /** Addresses by interface index. Guarded by this. */
    private final Map<Integer, List<InetAddress>> addresses = new HashMap<>();
    /** Usable neighbour MACs by ifindex and address. Written by the monitor thread only. */
    private final Map<NeighbourKey, Long> neighbours = new ConcurrentHashMap<>();
    /** The IPv4 routing tables and rules. */
    private final RoutingMirror routing;
    private int users;
    private volatile boolean closed;

    private record NeighbourKey(int ifindex, InetAddress address) {
    }

    private RtnlMonitor(String namespace) throws IOException {
        this.namespace = namespace;
        this.routing = new RoutingMirror(namespace, state -> notify(l -> l.routingChanged(state)));
        int s = Syscalls.socket(Linux.AF_NETLINK, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, Rtnl.NETLINK_ROUTE);
        RtNetlink q = null;
        try {
            MemorySegment local = arena.allocate(SOCKADDR_NL_SIZE, 4);
            local.set(JAVA_SHORT, 0, (short) Linux.AF_NETLINK);
            local.set(JAVA_INT, 8, RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR
                    | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE);
            Syscalls.bind(s, local, SOCKADDR_NL_SIZE, "AF_NETLINK multicast groups");
            try {
                Syscalls.setsockopt(s, Linux.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20, "SO_RCVBUFFORCE");
            } catch (SyscallException e) {
                Syscalls.setsockopt(s, Linux.SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF");
            }
            MemorySegment timeout = arena.allocate(16, 8);
            timeout.set(JAVA_LONG, 0, 0);
            timeout.set(JAVA_LONG, 8, WAIT_MILLIS * 1000);
            Syscalls.setsockopt(s, Linux.SOL_SOCKET, Rtnl.SO_RCVTIMEO, timeout, 16, "SO_RCVTIMEO");
            rx = arena.allocate(BUFFER, 8);
            q = new RtNetlink();
            this.queries = q;
            resync(false);
        } catch (IOException | RuntimeException e) {
            Syscalls.close(s);
            if (q != null) {
                q.close();
            }
            arena.close();
            throw e;
        }
        this.fd = s;
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
    public synchronized LinkInfo link(int ifindex) {
        return links.get(ifindex);
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
    public synchronized List<LinkInfo> links() {
        return List.copyOf(links.values());
    }

    /** The addresses of interface {@code ifindex} as last reported. */
    public synchronized List<InetAddress> addresses(int ifindex) {
        return addresses.getOrDefault(ifindex, List.of());
    }

    /**
     * The IPv4 routes and rules as last known. A route notification is applied to the mirror at once
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
        Long mac = neighbours.get(new NeighbourKey(ifindex, address));
        return mac == null ? 0 : mac;
    }

    // ------------------------------------------------------------------------------- monitor thread

    private void run() {
        long nextPoll = System.nanoTime() + POLL_NANOS;
        try {
            while (!closed) {
                fromKernel();
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
            Syscalls.close(fd);
            queries.close();
            arena.close();
        }
    }

    /** Reads and handles one datagram of notifications, or returns after the receive timeout. */
    private void fromKernel() throws IOException {
        long n = Syscalls.recvfromRaw(fd, rx, rx.byteSize(), 0, MemorySegment.NULL, MemorySegment.NULL);
        if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
            return;
        }
        if (n == -Errno.ENOBUFS) {
            // notifications were lost: read the state again and report everything
            logger.debug("rtnetlink monitor of {} overran; resynchronising", namespace);
            resync(true);
            return;
        }
        if (n < 0) {
            throw new SyscallException("recvfrom(NETLINK_ROUTE monitor)", (int) -n);
        }
        for (int pos = 0; n - pos >= NlMsgHdr.SIZE; ) {
            int len = NlMsgHdr.len(rx, pos);
            if (len < NlMsgHdr.SIZE || len > n - pos) {
                return;
            }
            try {
                handle(NlMsgHdr.type(rx, pos), rx.asSlice(pos, len));
            } catch (NetlinkProtocolException e) {
                logger.debug("rtnetlink monitor: skipping a malformed notification: {}", e.getMessage());
                routing.changed();
            }
            pos += Rtnl.align(len);
        }
        if (routing.isDirty()) {
            routing.read(queries);
        }
    }

    private void handle(int type, MemorySegment msg) throws NetlinkProtocolException {
        switch (type) {
            case Rtnl.RTM_NEWLINK -> {
                LinkInfo link = LinkInfo.decode(msg);
                LinkInfo old;
                synchronized (this) {
                    old = links.put(link.index(), link);
                }
                if (!link.equals(old)) {
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
                List<InetAddress> now;
                synchronized (this) {
                    List<InetAddress> list = new ArrayList<>(addresses.getOrDefault(a.ifindex(), List.of()));
                    boolean changed = type == RTM_DELADDR ? list.remove(a.address())
                            : !list.contains(a.address()) && list.add(a.address());
                    if (!changed) {
                        return;
                    }
                    now = List.copyOf(list);
                    addresses.put(a.ifindex(), now);
                }
                notify(l -> l.addressesChanged(a.ifindex(), now));
            }
            case Rtnl.RTM_NEWNEIGH, RTM_DELNEIGH -> {
                Neighbour nb = Neighbour.decode(msg);
                long mac = type == RTM_DELNEIGH || !nb.isValid() ? 0 : nb.mac().toLong();
                NeighbourKey key = new NeighbourKey(nb.ifindex(), nb.address());
                Long old = mac == 0 ? neighbours.remove(key) : neighbours.put(key, mac);
                // a new entry cannot make a cached next hop stale (a remembered miss is retried anyway);
                // a known one that changes its MAC, or becomes unusable, does
                if (old != null && old != mac) {
                    notify(l -> l.neighbourChanged(nb.ifindex(), nb.address()));
                }
            }
            case Rtnl.RTM_NEWROUTE, RTM_DELROUTE -> {
                if (msg.byteSize() < NlMsgHdr.SIZE + RtMsg.SIZE) {
                    routing.changed();
                } else if (msg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY)
                        == Linux.AF_INET) {
                    routing.notified(type, NlMsgHdr.flags(msg, 0), msg);
                }
                if (msg.byteSize() >= NlMsgHdr.SIZE + RtMsg.SIZE) {
                    int rtType = Byte.toUnsignedInt(msg.get(java.lang.foreign.ValueLayout.JAVA_BYTE,
                            NlMsgHdr.SIZE + RtMsg.TYPE));
                    if (rtType == Route.RTN_LOCAL || rtType == Route.RTN_BROADCAST || rtType == Route.RTN_MULTICAST
                            || rtType == Route.RTN_ANYCAST) {
                        return; // this host's own, broadcast and multicast entries: no unicast next hop changes
                    }
                }
                int oif = msg.byteSize() >= NlMsgHdr.SIZE + RtMsg.SIZE
                        ? NlAttrs.parse(msg, NlMsgHdr.SIZE + RtMsg.SIZE, (int) msg.byteSize(), Rtnl.RTA_MAX)
                                .u32(Rtnl.RTA_OIF, 0)
                        : 0;
                notify(l -> l.routesChanged(oif));
            }
            default -> {
            }
        }
    }

    /** Tells every listener; one that throws is logged and does not stop the others or the monitor. */
    private void notify(java.util.function.Consumer<Listener> call) {
        for (Listener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                logger.warn("rtnetlink monitor of {}: a listener failed", namespace, e);
            }
        }
    }

    private void deleted(int ifindex, String name) {
        synchronized (this) {
            if (links.remove(ifindex) == null) {
                return;
            }
            addresses.remove(ifindex);
        }
        routing.markDirty();
        neighbours.keySet().removeIf(k -> k.ifindex() == ifindex);
        notify(l -> l.linkDeleted(ifindex, name));
    }

    /** Re-reads the interfaces (reporting differences), then ticks the listeners. */
    private void poll() {
        try {
            List<LinkInfo> now = queries.links();
            reconcileLinks(now);
        } catch (IOException e) {
            logger.debug("rtnetlink monitor of {}: cannot list interfaces: {}", namespace, e.getMessage());
        }
        notify(Listener::tick);
    }

    private void reconcileLinks(List<LinkInfo> now) {
        Map<Integer, LinkInfo> seen = new HashMap<>();
        for (LinkInfo l : now) {
            seen.put(l.index(), l);
        }
        List<LinkInfo> gone;
        List<LinkInfo> changed = new ArrayList<>();
        synchronized (this) {
            gone = new ArrayList<>();
            for (LinkInfo old : links.values()) {
                if (!seen.containsKey(old.index())) {
                    gone.add(old);
                }
            }
            for (LinkInfo l : now) {
                if (!l.equals(links.put(l.index(), l))) {
                    changed.add(l);
                }
            }
        }
        for (LinkInfo l : gone) {
            deleted(l.index(), l.name());
        }
        if (!changed.isEmpty()) {
            routing.markDirty();
        }
        for (LinkInfo l : changed) {
            notify(x -> x.linkChanged(l));
        }
    }

    /** Reads links and addresses again; {@code report}: tell the listeners everything may have changed. */
    private void resync(boolean report) throws IOException {
        routing.changed();
        List<LinkInfo> now = queries.links();
        neighbours.clear();
        for (Neighbour nb : queries.neighbours(0)) {
            if (nb.isValid()) {
                neighbours.put(new NeighbourKey(nb.ifindex(), nb.address()), nb.mac().toLong());
            }
        }
        Map<Integer, List<InetAddress>> addrs = new HashMap<>();
        for (AddressInfo a : queries.addresses()) {
            addrs.computeIfAbsent(a.ifindex(), k -> new ArrayList<>()).add(a.address());
        }
        if (!report) {
            synchronized (this) {
                for (LinkInfo l : now) {
                    links.put(l.index(), l);
                }
                addrs.forEach((k, v) -> addresses.put(k, List.copyOf(v)));
            }
            routing.read(queries);
            return;
        }
        reconcileLinks(now);
        synchronized (this) {
            addresses.clear();
            addrs.forEach((k, v) -> addresses.put(k, List.copyOf(v)));
        }
        for (Map.Entry<Integer, List<InetAddress>> e : addrs.entrySet()) {
            List<InetAddress> list = List.copyOf(e.getValue());
            notify(l -> l.addressesChanged(e.getKey(), list));
        }
        routing.read(queries);
        notify(l -> l.routesChanged(0));
    }
}
