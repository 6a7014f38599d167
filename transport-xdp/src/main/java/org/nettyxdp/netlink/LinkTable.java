package org.nettyxdp.netlink;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The interfaces of a namespace and their addresses as an {@link RtnlMonitor} last heard of them:
 * written by the monitor's thread, read by any (under the table's lock, held briefly).
 */
final class LinkTable {
    /** Interfaces by index. Guarded by this. */
    private final Map<Integer, LinkInfo> links = new HashMap<>();
    /** Addresses by interface index. Guarded by this. */
    private final Map<Integer, List<InetAddress>> addresses = new HashMap<>();

    /** What a re-read of the interfaces found different: the ones gone, the ones new or changed. */
    record Changes(List<LinkInfo> gone, List<LinkInfo> changed) {
    }

    /** The interface {@code ifindex}, or null. */
    synchronized LinkInfo link(int ifindex) {
        return links.get(ifindex);
    }

    /** Every interface. */
    synchronized List<LinkInfo> links() {
        return List.copyOf(links.values());
    }

    /** The addresses of interface {@code ifindex}. */
    synchronized List<InetAddress> addresses(int ifindex) {
        return addresses.getOrDefault(ifindex, List.of());
    }

    /** Stores {@code link}; true if it is new or differs from the one stored. */
    synchronized boolean put(LinkInfo link) {
        return !link.equals(links.put(link.index(), link));
    }

    /** Removes interface {@code ifindex} and its addresses; false if it was not known. */
    synchronized boolean remove(int ifindex) {
        if (links.remove(ifindex) == null) {
            return false;
        }
        addresses.remove(ifindex);
        return true;
    }

    /**
     * Adds (or, {@code deleted}, removes) {@code address} of {@code ifindex}: the interface's new
     * complete list, or null if nothing changed.
     */
    synchronized List<InetAddress> address(int ifindex, InetAddress address, boolean deleted) {
        List<InetAddress> list = new ArrayList<>(addresses.getOrDefault(ifindex, List.of()));
        boolean changed = deleted ? list.remove(address) : !list.contains(address) && list.add(address);
        if (!changed) {
            return null;
        }
        List<InetAddress> now = List.copyOf(list);
        addresses.put(ifindex, now);
        return now;
    }

    /**
     * Stores the interfaces {@code now} (a complete list) and tells what differs; the ones gone are not
     * removed yet ({@link #remove}).
     */
    synchronized Changes reconcile(List<LinkInfo> now) {
        Map<Integer, LinkInfo> seen = new HashMap<>();
        for (LinkInfo l : now) {
            seen.put(l.index(), l);
        }
        List<LinkInfo> gone = new ArrayList<>();
        for (LinkInfo old : links.values()) {
            if (!seen.containsKey(old.index())) {
                gone.add(old);
            }
        }
        List<LinkInfo> changed = new ArrayList<>();
        for (LinkInfo l : now) {
            if (!l.equals(links.put(l.index(), l))) {
                changed.add(l);
            }
        }
        return new Changes(gone, changed);
    }

    /** Stores {@code links} (a complete list) and {@code addresses}, reporting nothing (at start). */
    synchronized void seed(List<LinkInfo> links, Map<Integer, List<InetAddress>> addresses) {
        for (LinkInfo l : links) {
            this.links.put(l.index(), l);
        }
        addresses.forEach((k, v) -> this.addresses.put(k, List.copyOf(v)));
    }

    /** Replaces every interface's addresses by {@code addresses}. */
    synchronized void replaceAddresses(Map<Integer, List<InetAddress>> addresses) {
        this.addresses.clear();
        addresses.forEach((k, v) -> this.addresses.put(k, List.copyOf(v)));
    }
}
