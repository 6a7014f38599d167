package org.nettyxdp.xsk;

import org.nettyxdp.bpf.BpfException;

import java.util.ArrayList;
import java.util.List;

/**
 * The channels serving one (port, address) of an interface: one steering slot, and for each RX queue
 * the member whose socket the slot's XSKMAP entry points to. Without {@code SO_REUSEPORT} a group has
 * one member, which owns every queue. With it, members join and leave (the Netty way: one channel per
 * event loop, all bound to the same address and port) and the queues are dealt out round robin, queue
 * {@code q} to member {@code q % members}: each queue's frames reach exactly one channel, so one loop.
 *
 * <p>Every member binds a socket on every queue (they share the queue's UMEM), so handing a queue over
 * is one XSKMAP update: frames already in the old owner's RX ring are still read by it, later frames go
 * to the new owner; nothing is lost or read twice. With more members than queues the extra members own
 * no queue: they transmit on a queue they share (queue {@code index % queues}, with their own TX ring)
 * and take over queues as others leave.
 *
 * <p>Guarded by the interface's lock (joins and leaves come from different event loops).
 */
final class PortGroup {
    /** What the group needs of a member: its sockets, and where to tell it what it owns. */
    interface Member {
        /** The member's socket on RX queue {@code queue}. */
        int socketFd(int queue);

        /** The RX queues this member now owns and the queue it transmits on. Any thread. */
        void assign(boolean[] owned, int txQueue);
    }

    private final XdpInterface iface;
    private final int slot;
    private final boolean reusePort;
    private final List<Member> members = new ArrayList<>();

    PortGroup(XdpInterface iface, int slot, boolean reusePort) {
        this.iface = iface;
        this.slot = slot;
        this.reusePort = reusePort;
    }

    int slot() {
        return slot;
    }

    /** True if a channel with {@code SO_REUSEPORT} set to {@code reusePort} may join. */
    boolean admits(boolean reusePort) {
        return this.reusePort && reusePort;
    }

    /** Adds {@code m} and deals the queues out again (it points the XSKMAP at the new owners). */
    void join(Member m) throws BpfException {
        members.add(m);
        try {
            rebalance();
        } catch (BpfException e) {
            members.remove(m);
            rebalance();
            throw e;
        }
    }

    /**
     * Removes {@code m}; the remaining members take over its queues. Returns true if others remain
     * (otherwise the caller removes the steering entry and the slot).
     */
    boolean leave(Member m) {
        if (!members.remove(m)) {
            return !members.isEmpty();
        }
        m.assign(new boolean[iface.queues()], 0);
        if (members.isEmpty()) {
            return false;
        }
        try {
            rebalance();
        } catch (BpfException e) {
            // the XSKMAP refused an update of a live socket: nothing sensible is left to try
        }
        return true;
    }

    private void rebalance() throws BpfException {
        int queues = iface.queues();
        int n = members.size();
        if (n == 0) {
            return;
        }
        boolean[][] owned = new boolean[n][queues];
        for (int q = 0; q < queues; q++) {
            int owner = q % n;
            // point the queue at its new owner first: the old owner keeps draining what it already has
            iface.setSocket(slot, q, members.get(owner).socketFd(q));
            owned[owner][q] = true;
        }
        for (int i = 0; i < n; i++) {
            members.get(i).assign(owned[i], i % queues);
        }
    }
}
