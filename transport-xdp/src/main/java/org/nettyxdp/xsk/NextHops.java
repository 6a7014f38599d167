package org.nettyxdp.xsk;

import org.nettyxdp.netlink.Neighbour;
import org.nettyxdp.netlink.Route;
import org.nettyxdp.netlink.RoutingState;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.netlink.RtnlMonitor;
import org.nettyxdp.packet.MacAddress;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where fast-path frames to a destination go: the next hop's MAC address and our source address,
 * from the kernel's route and neighbour tables (rtnetlink), cached per destination.
 *
 * <p>{@link #lookup} never blocks: a destination not in the cache (or whose entry expired) is handed
 * to one resolver thread shared by the process, and the datagram takes the companion socket at once
 * (whose send also makes the kernel resolve the neighbour). The resolver asks netlink, through a
 * socket this instance opened in the channel's namespace, and stores the answer; later datagrams to
 * the destination take the fast path. A neighbour the kernel has not resolved yet is asked for again
 * after {@link #NEIGHBOUR_RETRY_NANOS}; a destination the fast path cannot serve (routed out of another
 * interface, IPv4 on {@code lo} without {@code route_localnet}) is remembered as such for
 * {@link #RETRY_NANOS}; resolved hops for {@link #HOP_TTL_NANOS}, after which
 * they are used while being resolved again. At most {@link #MAX_ENTRIES} destinations are cached and
 * {@link #MAX_PENDING} resolutions queued (beyond that a request is dropped and asked again later), and
 * the resolver paces itself (about 5000 resolutions per second at most), so
 * a flood of new sources costs the event loop one map probe and, at worst, a queue offer per datagram.
 * {@link #lookup} is event-loop confined; the cache is shared with the resolver.
 *
 * <p><b>In memory, as the kernel decides.</b> An IPv4 destination that is not cached yet is first
 * looked up in a mirror of the kernel's routing tables ({@link Ipv4RouteTable}, from the namespace's
 * {@link RtnlMonitor}): when its route is one the mirror is sure of, and the kernel already answered
 * for another destination behind that route (the source address it chose and, for a gateway, the
 * gateway's MAC: resolved once, shared by all destinations behind it), the hop is built on the event
 * loop with no syscall and the datagram takes the fast path at once. The first destination behind a
 * route, an on-link destination whose neighbour the monitor does not know, and everything the mirror
 * is not sure of take the resolver as described above. A route's answer is asked for again after
 * {@link #HOP_TTL_NANOS} (used meanwhile), and dropped with the whole mirror by {@link #clear()}.
 */
public final class NextHops implements AutoCloseable {
    public static final long RETRY_NANOS = 50_000_000L;
    /** How long a resolved hop is used before it is resolved again. */
    public static final long HOP_TTL_NANOS = 5_000_000_000L;
    /**
     * How soon a neighbour the kernel has not resolved yet is asked for again: the kernel socket's
     * send that made the miss also made the kernel resolve it, which takes about a round trip.
     */
    static final long NEIGHBOUR_RETRY_NANOS = 2_000_000L;
    /** What {@link #resolve} returns for a route whose neighbour is not resolved yet. */
    private static final Hop UNRESOLVED_NEIGHBOUR = new Hop(0, new byte[0], new byte[0], 0, 0);
    /** How long a queued resolution may take before it is asked for again. */
    private static final long PENDING_NANOS = 1_000_000_000L;
    static final int MAX_ENTRIES = 4096;
    static final int MAX_PENDING = 1024;
    /** Pause of the resolver after each resolution (caps it at about 5000 per second). */
    static final long RESOLVE_INTERVAL_NANOS = 200_000L;
    private static final ThreadPoolExecutor RESOLVER = resolver();

    /**
     * A resolved next hop: the MAC address frames go to, and the destination and preferred source
     * addresses as bytes (4 or 16), kept so that writing headers allocates nothing. Read-only.
     */
    record Hop(long mac, byte[] destination, byte[] source, int destination4, int source4) {
        static Hop of(MacAddress mac, InetAddress destination, InetAddress source) {
            byte[] d = destination.getAddress();
            byte[] s = source == null ? new byte[d.length] : source.getAddress();
            return new Hop(mac.toLong(), d, s, d.length == 4 ? XdpFastPath.toInt(d) : 0,
                    s.length == 4 ? XdpFastPath.toInt(s) : 0);
        }
    }

    /** A cached answer; {@code pending} while the resolver works on it. */
    private record Entry(Hop hop, long expiresNanos, boolean pending) {
    }

    private final int ifindex;
    private final boolean loopback;
    private final boolean loopbackIpv4FastPath;
    private final ConcurrentHashMap<InetAddress, Entry> cache = new ConcurrentHashMap<>();
    /** Opened by the constructor, so in the namespace of the thread that binds the channel. */
    private final RtNetlink netlink;
    /** The namespace's monitor (its routes and neighbours), or null if it could not be started. */
    private final RtnlMonitor.Subscription monitor;
    /**
     * The mirror of the routing tables as of {@link RtnlMonitor#routing()}: built on the monitor's
     * thread after each change, read by the event loop.
     */
    private volatile Ipv4RouteTable routes = Ipv4RouteTable.UNSURE;
    /** The last table that decided anything: the kernel answers carry over from it. Monitor thread. */
    private Ipv4RouteTable lastSure = Ipv4RouteTable.UNSURE;
    /** Route answers asked for before this ({@link #clear()}) are not used. */
    private volatile long clearedNanos = System.nanoTime();
    private volatile boolean closed;

    NextHops(int ifindex, boolean loopback) throws IOException {
        this.ifindex = ifindex;
        this.loopback = loopback;
        this.loopbackIpv4FastPath = loopback && loopbackAcceptsOwnIpv4();
        this.netlink = new RtNetlink();
        RtnlMonitor.Subscription m = null;
        if (!loopback) {
            try {
                m = RtnlMonitor.subscribe(new RtnlMonitor.Listener() {
                    @Override
                    public void routingChanged(RoutingState state) {
                        follow(state);
                    }
                });
                follow(m.monitor().routing());
            } catch (IOException | RuntimeException e) {
                if (m != null) {
                    m.close();
                }
                m = null; // no mirror: every destination is resolved through netlink
            }
        }
        this.monitor = m;
    }

    private static ThreadPoolExecutor resolver() {
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_PENDING), r -> {
                    Thread t = new Thread(r, "nx-next-hops");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.DiscardPolicy());
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /**
     * True when frames we transmit on {@code lo} to 127.0.0.0/8 are accepted rather than dropped as
     * martians: both {@code route_localnet} and {@code accept_local} must be 1 on {@code lo}.
     */
    static boolean loopbackAcceptsOwnIpv4() {
        return sysctlIsOne("net/ipv4/conf/lo/route_localnet") && sysctlIsOne("net/ipv4/conf/lo/accept_local");
    }

    private static boolean sysctlIsOne(String name) {
        try {
            return Files.readString(Path.of("/proc/sys/" + name)).trim().equals("1");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The next hop for {@code destination}, or null when the fast path cannot reach it now (not yet
     * known: resolution is requested in the background). Never blocks.
     */
    Hop lookup(InetAddress destination) {
        Entry e = cache.get(destination);
        long now = System.nanoTime();
        if (e != null && now - e.expiresNanos < 0) {
            return e.hop;
        }
        if (e == null || !e.pending) {
            Hop hop = fromMirror(destination, now);
            if (hop != null) {
                if (cache.size() >= MAX_ENTRIES) {
                    cache.clear();
                }
                cache.put(destination, new Entry(hop, now + HOP_TTL_NANOS, false));
                return hop;
            }
        }
        request(destination, e, now);
        return e == null ? null : e.hop; // a stale hop serves while it is resolved again
    }

    /**
     * The hop to {@code destination} from the mirror of the routing tables and the answer the kernel
     * gave for its route, or null where the mirror cannot be sure or knows no answer yet. No syscall.
     */
    private Hop fromMirror(InetAddress destination, long now) {
        Ipv4RouteTable.Decided route = decided(destination);
        if (route == null) {
            return null;
        }
        Ipv4RouteTable.Template t = route.template;
        if (t == null || t.askedNanos - clearedNanos < 0) {
            return null; // the first destination behind this route: the resolver asks the kernel
        }
        if (now - t.expiresNanos >= 0 && now - t.refreshNanos >= 0) {
            t.refreshNanos = now + PENDING_NANOS;
            return null; // asked again through this destination; the others use the answer meanwhile
        }
        int d4 = destination.hashCode();
        long mac = route.gateway != 0 ? t.mac : monitor.monitor().neighbourMac(ifindex, d4); // allocates nothing
        if (mac == 0) {
            return null; // an on-link destination whose neighbour is not known (yet)
        }
        return new Hop(mac, destination.getAddress(), t.source, d4, XdpFastPath.toInt(t.source));
    }

    /** The mirror's route to {@code destination} when it is sure of one through this interface. */
    private Ipv4RouteTable.Decided decided(InetAddress destination) {
        if (monitor == null || !(destination instanceof Inet4Address)) {
            return null;
        }
        Ipv4RouteTable.Decided route = routes.lookup(destination.hashCode());
        return route != null && route.oif == ifindex ? route : null;
    }

    /** Builds the mirror of {@code state}, keeping the answers of the routes that did not change. */
    private synchronized void follow(RoutingState state) {
        Ipv4RouteTable t = Ipv4RouteTable.of(state, lastSure);
        if (t != Ipv4RouteTable.UNSURE) {
            lastSure = t; // an unknown state in between (a rule being read) does not lose them
        }
        routes = t;
    }


    private void request(InetAddress destination, Entry stale, long now) {
        if (closed) {
            return;
        }
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        Entry pending = new Entry(stale == null ? null : stale.hop, now + PENDING_NANOS, true);
        boolean mine = stale == null ? cache.putIfAbsent(destination, pending) == null
                : cache.replace(destination, stale, pending);
        if (mine) {
            Ipv4RouteTable.Decided route = decided(destination);
            RESOLVER.execute(() -> resolveInBackground(destination, route, now));
        }
    }

    private void resolveInBackground(InetAddress destination, Ipv4RouteTable.Decided mirror, long askedNanos) {
        if (closed) {
            return;
        }
        Hop hop = resolve(destination, mirror, askedNanos);
        long ttl = hop == UNRESOLVED_NEIGHBOUR ? NEIGHBOUR_RETRY_NANOS : hop != null ? HOP_TTL_NANOS : RETRY_NANOS;
        cache.put(destination, new Entry(hop == UNRESOLVED_NEIGHBOUR ? null : hop, System.nanoTime() + ttl, false));
        // at most one resolution per RESOLVE_INTERVAL_NANOS: a flood of new sources costs a bounded share of
        // a CPU here; what cannot be resolved in time stays on the kernel socket, like a kernel socket
        java.util.concurrent.locks.LockSupport.parkNanos(RESOLVE_INTERVAL_NANOS);
    }

    /** Forgets every cached hop and route answer (e.g. after a neighbour may have changed). Event loop. */
    void clear() {
        cache.clear();
        clearedNanos = System.nanoTime();
    }

    /** Destinations cached now (resolved, unreachable or pending). */
    int size() {
        return cache.size();
    }

    /**
     * The hop, {@link #UNRESOLVED_NEIGHBOUR}, or null where the fast path cannot reach
     * {@code destination}. When the kernel's answer is the one {@code mirror} (the mirror's route for
     * it, or null) predicted, the answer becomes the route's template for the destinations behind it.
     */
    private Hop resolve(InetAddress destination, Ipv4RouteTable.Decided mirror, long askedNanos) {
        if (loopback && destination instanceof Inet4Address && !loopbackIpv4FastPath) {
            return null;
        }
        try {
            Route route = netlink.route(destination);
            if (route.oif() != ifindex) {
                return null;
            }
            if (route.isLocal()) {
                return loopback ? Hop.of(MacAddress.ZERO, destination, route.preferredSource()) : null;
            }
            if (!route.isUnicast()) {
                return null;
            }
            Optional<Neighbour> n = netlink.neighbour(ifindex, route.nextHop());
            boolean resolved = n.isPresent() && n.get().isValid() && n.get().mac() != null;
            if (mirror != null) {
                learn(mirror, route, resolved ? n.get().mac().toLong() : 0, askedNanos);
            }
            if (!resolved) {
                return UNRESOLVED_NEIGHBOUR;
            }
            return Hop.of(n.get().mac(), destination, route.preferredSource());
        } catch (IOException | RuntimeException e) {
            return null; // closed under the resolver, or no route: the kernel socket serves it
        }
    }

    /**
     * Keeps the kernel's answer {@code route} as the template of the mirror's route {@code mirror},
     * if the kernel decided as the mirror did: the main table, the same interface and gateway.
     */
    private void learn(Ipv4RouteTable.Decided mirror, Route route, long mac, long askedNanos) {
        boolean agrees = route.isUnicast() && route.table() == Route.TABLE_MAIN && route.oif() == mirror.oif
                && (mirror.gateway == 0 ? route.gateway() == null : mirror.gatewayAddress.equals(route.gateway()))
                && route.preferredSource() instanceof Inet4Address;
        if (!agrees) {
            mirror.template = null;
            return;
        }
        if (mirror.gateway != 0 && mac == 0) {
            return; // the gateway's neighbour is not resolved yet: asked again with the next destination
        }
        mirror.template = new Ipv4RouteTable.Template(mirror.gateway != 0 ? mac : 0,
                route.preferredSource().getAddress(), askedNanos, System.nanoTime() + HOP_TTL_NANOS);
    }

    @Override
    public void close() {
        closed = true;
        netlink.close();
        cache.clear();
        if (monitor != null) {
            monitor.close();
        }
    }
}
