package org.nettyxdp.netlink;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The usable neighbour MACs of a namespace (entries in a state the kernel sends with, {@link
 * Neighbour#isValid()}) by interface and address, as an {@link RtnlMonitor} last heard of them. Written
 * by the monitor's thread only, read by any thread without blocking; an IPv4 lookup allocates nothing.
 */
final class NeighbourTable {
    private final Ipv4NeighbourMacs ipv4 = new Ipv4NeighbourMacs();
    /** The other families' entries. */
    private final Map<Key, Long> others = new ConcurrentHashMap<>();

    private record Key(int ifindex, InetAddress address) {
    }

    /** The MAC of the IPv4 neighbour {@code address} (as an int) on {@code ifindex}; 0 if none is known. */
    long mac(int ifindex, int address) {
        long mac = ipv4.get(ifindex, address);
        return mac < 0 ? 0 : mac;
    }

    /** The MAC of the neighbour {@code address} on {@code ifindex}; 0 if none is known. */
    long mac(int ifindex, InetAddress address) {
        if (address instanceof Inet4Address) {
            return mac(ifindex, address.hashCode());
        }
        Long mac = others.get(new Key(ifindex, address));
        return mac == null ? 0 : mac;
    }

    /**
     * Applies a neighbour notification ({@code deleted}: {@code RTM_DELNEIGH}). True when a known
     * entry changed its MAC, became unusable or was deleted: a new entry cannot make a cached next hop
     * stale (a remembered miss is retried anyway), a known one that changes does.
     */
    boolean update(Neighbour nb, boolean deleted) {
        long mac = deleted || !nb.isValid() ? 0 : nb.mac().toLong();
        long old = mac == 0 ? remove(nb) : put(nb, mac);
        return old >= 0 && old != mac;
    }

    /** Stores {@code mac} for {@code nb}; the previous MAC, or -1. */
    private long put(Neighbour nb, long mac) {
        if (nb.address() instanceof Inet4Address) {
            return ipv4.put(nb.ifindex(), nb.address().hashCode(), mac);
        }
        Long old = others.put(new Key(nb.ifindex(), nb.address()), mac);
        return old == null ? -1 : old;
    }

    /** Removes the entry of {@code nb}; its MAC, or -1 if there was none. */
    private long remove(Neighbour nb) {
        if (nb.address() instanceof Inet4Address) {
            return ipv4.remove(nb.ifindex(), nb.address().hashCode());
        }
        Long old = others.remove(new Key(nb.ifindex(), nb.address()));
        return old == null ? -1 : old;
    }

    /** Forgets every entry of interface {@code ifindex} (it was deleted). */
    void removeInterface(int ifindex) {
        ipv4.removeInterface(ifindex);
        others.keySet().removeIf(k -> k.ifindex() == ifindex);
    }

    /** Replaces every entry by the usable ones of {@code dump} (after lost notifications). */
    void replaceAll(List<Neighbour> dump) {
        ipv4.clear();
        others.clear();
        for (Neighbour nb : dump) {
            if (nb.isValid()) {
                put(nb, nb.mac().toLong());
            }
        }
    }
}
