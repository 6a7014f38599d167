package org.nettyxdp.xsk;

import org.nettyxdp.netlink.Neighbour;
import org.nettyxdp.netlink.Route;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.packet.MacAddress;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where fast-path frames to a destination go: the next hop's MAC address and our source address,
 * from the kernel's route and neighbour tables (rtnetlink), cached per destination.
 *
 * <p>A destination the fast path cannot serve (routed out of another interface, neighbour not yet
 * resolved, IPv4 on {@code lo} without {@code route_localnet}) resolves to {@code null}; the
 * datagram then goes through the companion socket, whose send also makes the kernel resolve the
 * neighbour. Misses are remembered for {@link #RETRY_NANOS} so a busy sender asks netlink rarely.
 * Event-loop confined.
 */
public final class NextHops implements AutoCloseable {
    public static final long RETRY_NANOS = 50_000_000L;
    private static final int MAX_ENTRIES = 4096;

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

    private record Entry(Hop hop, long expiresNanos) {
    }

    private final int ifindex;
    private final boolean loopback;
    private final boolean loopbackIpv4FastPath;
    private final Map<InetAddress, Entry> cache = new HashMap<>();
    private RtNetlink netlink;

    NextHops(int ifindex, boolean loopback) {
        this.ifindex = ifindex;
        this.loopback = loopback;
        this.loopbackIpv4FastPath = loopback && loopbackAcceptsOwnIpv4();
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

    /** The next hop for {@code destination}, or null when the fast path cannot reach it now. */
    Hop lookup(InetAddress destination) {
        Entry e = cache.get(destination);
        if (e != null && (e.hop != null || System.nanoTime() < e.expiresNanos)) {
            return e.hop;
        }
        Hop hop = resolve(destination);
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        cache.put(destination, new Entry(hop, System.nanoTime() + RETRY_NANOS));
        return hop;
    }

    /** Forgets every cached hop (e.g. after a neighbour may have changed). */
    void clear() {
        cache.clear();
    }

    private Hop resolve(InetAddress destination) {
        if (loopback && destination instanceof Inet4Address && !loopbackIpv4FastPath) {
            return null;
        }
        try {
            if (netlink == null) {
                netlink = new RtNetlink();
            }
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
            if (n.isEmpty() || !n.get().isValid() || n.get().mac() == null) {
                return null;
            }
            return Hop.of(n.get().mac(), destination, route.preferredSource());
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() {
        if (netlink != null) {
            netlink.close();
            netlink = null;
        }
    }
}
