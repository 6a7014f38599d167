package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.bpf.BpfException;
import org.nettyxdp.bpf.FrameMatch;
import org.nettyxdp.bpf.PortMap;
import org.nettyxdp.bpf.RawFilterProgram;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.bpf.XdpSteering;
import org.nettyxdp.netlink.AddressInfo;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.sys.Errno;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The {@link XdpSteering} of one interface as this process shares it: every channel bound there uses
 * the same program and maps, each with its own slot and port. Attached by the first channel, detached
 * by the last one to leave (and by the kernel, should the process die).
 *
 * <p>It also keeps the host's addresses ({@link LocalAddresses}) in the program's local address map
 * and for the channels' martian checks: read from rtnetlink when attached and at every port added;
 * {@link #updateLocalAddresses} takes a new address list (a netlink listener calls
 * {@link #refreshAll()} on {@code RTM_NEWADDR}/{@code RTM_DELADDR}).
 */
final class XdpInterface {
    /** Channels one interface can host at once. */
    static final int MAX_SLOTS = 64;
    /** Entries of the port map, and host addresses the local address map holds. */
    static final int MAX_LOCAL_ADDRESSES = 1024;
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpInterface.class);
    private static final Map<Integer, XdpInterface> ATTACHED = new HashMap<>();

    private final LinkInfo link;
    private final XdpMode mode;
    private final XdpSteering steering;
    /** Raw channels' filters by raw slot, in the order they were added: the order they are tried. */
    private final Map<Integer, RawFilterProgram.Entry> rawFilters = new LinkedHashMap<>();
    /** What the local address map holds (guarded by ATTACHED). */
    private final Set<InetAddress> mapped = new HashSet<>();
    private volatile LocalAddresses locals = LocalAddresses.NONE;
    /** The channels of each (port, steered addresses) here; guarded by ATTACHED. */
    private final Map<PortKey, PortGroup> groups = new HashMap<>();
    private int users;

    private record PortKey(int port, List<InetAddress> keys) {
    }

    private XdpInterface(LinkInfo link, XdpMode mode, XdpSteering steering) {
        this.link = link;
        this.mode = mode;
        this.steering = steering;
    }

    /** The mode the program is attached in: {@link XdpMode#DRV} (native) or {@link XdpMode#SKB} (generic). */
    XdpMode attachedMode() {
        return steering.link().mode();
    }

    /** Whether the program handles multi-buffer frames ({@code BPF_F_XDP_HAS_FRAGS}). */
    boolean hasFrags() {
        return steering.program().hasFrags();
    }

    /** The interface's steering, attached on first use; pair each call with {@link #release()}. */
    static XdpInterface acquire(LinkInfo link, XdpMode mode) throws IOException {
        synchronized (ATTACHED) {
            XdpInterface iface = ATTACHED.get(link.index());
            if (iface == null) {
                XdpSteering steering = open(link, mode);
                iface = new XdpInterface(link, mode, steering);
                try {
                    iface.refreshLocalAddresses();
                } catch (IOException | RuntimeException e) {
                    steering.close();
                    throw e;
                }
                ATTACHED.put(link.index(), iface);
            } else if (mode != XdpMode.AUTO && iface.mode != XdpMode.AUTO && mode != iface.mode) {
                throw new IOException("XDP is attached to " + link.name() + " in " + iface.mode
                        + " mode by another channel; cannot also use " + mode + " mode");
            }
            iface.users++;
            return iface;
        }
    }

    /**
     * Attaches in {@code mode}, the program loaded with multi-buffer support ({@code BPF_F_XDP_HAS_FRAGS})
     * so native XDP takes an MTU larger than a page and sockets may bind with {@code XDP_USE_SG}. {@link XdpMode#AUTO} tries native XDP and
     * falls back to generic where the driver has none (what the kernel's own choice does, made here
     * so the mode in effect is known); native XDP that still refuses the MTU (ERANGE: no frags) falls
     * back to generic under AUTO, and under DRV fails saying what to do.
     */
    private static XdpSteering open(LinkInfo link, XdpMode mode) throws IOException {
        int queues = activeRxQueues(link);
        byte[] mac = link.mac() == null ? new byte[6] : link.mac().toArray();
        XdpMode first = mode == XdpMode.AUTO ? XdpMode.DRV : mode;
        try {
            return openWithFrags(link, mac, queues, first);
        } catch (BpfException e) {
            boolean noNative = e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.ERANGE;
            if (first != XdpMode.DRV || !noNative) {
                throw e;
            }
            if (mode == XdpMode.DRV) {
                if (e.errno() == Errno.EOPNOTSUPP) {
                    throw e;
                }
                throw new IOException("native XDP cannot attach to " + link.name() + ": its MTU " + link.mtu()
                        + " needs multi-buffer frames, which this kernel or driver refuses; lower the MTU"
                        + " (native XDP needs a frame to fit one page, about 3500 bytes) or set"
                        + " XdpChannelOption.XDP_MODE to SKB or AUTO", e);
            }
            logger.debug("native XDP unavailable on {} ({}); using generic (SKB) XDP", link.name(), e.getMessage());
            return openWithFrags(link, mac, queues, XdpMode.SKB);
        }
    }

    /** The kernels this library runs on (5.18+) all take {@code BPF_F_XDP_HAS_FRAGS}. */
    private static XdpSteering openWithFrags(LinkInfo link, byte[] mac, int queues, XdpMode mode) throws BpfException {
        return XdpSteering.open(link.index(), mac, queues, MAX_SLOTS, MAX_LOCAL_ADDRESSES, mode, true);
    }

    /**
     * RX queues the device really uses ({@code real_num_rx_queues}: from the driver's channel counts,
     * else as sysfs lists them): an AF_XDP
     * socket cannot bind beyond them, although netlink may report more allocated (veth allocates one
     * per CPU and uses one unless told otherwise).
     */
    static int activeRxQueues(LinkInfo link) {
        int channels = RxQueues.of(link.name()); // the driver, in this thread's namespace
        if (channels > 0) {
            return channels;
        }
        try (Stream<Path> queues = Files.list(Path.of("/sys/class/net", link.name(), "queues"))) {
            int n = (int) queues.filter(p -> p.getFileName().toString().startsWith("rx-")).count();
            if (n > 0) {
                return n;
            }
        } catch (IOException | UncheckedIOException e) {
            // sysfs shows the namespace it was mounted in; fall back to what netlink reports
        }
        return Math.max(1, link.numRxQueues());
    }

    LinkInfo link() {
        return link;
    }

    /** The host's addresses as this interface sees them now (a snapshot; read per frame). */
    LocalAddresses locals() {
        return locals;
    }

    /** Re-reads the host's addresses from rtnetlink into the local address map. */
    void refreshLocalAddresses() throws IOException {
        List<AddressInfo> all;
        try (RtNetlink rtnl = new RtNetlink()) {
            all = rtnl.addresses();
        }
        updateLocalAddresses(all);
    }

    /**
     * Makes {@code all} (every address of every interface of the namespace, as {@code RTM_GETADDR}
     * dumps them) the host's addresses: the steering program takes frames to exactly the new set from
     * now on, and martian checks use it. Addresses added before removed ones, so a renumbering never
     * leaves a gap. Any thread.
     */
    void updateLocalAddresses(Collection<AddressInfo> all) throws IOException {
        LocalAddresses next = LocalAddresses.of(all, link.index(), link.isLoopback());
        synchronized (ATTACHED) {
            Set<InetAddress> wanted = new HashSet<>(next.destinations());
            for (InetAddress a : wanted) {
                if (mapped.add(a)) {
                    steering.locals().add(a);
                }
            }
            List<InetAddress> gone = new ArrayList<>();
            for (InetAddress a : mapped) {
                if (!wanted.contains(a)) {
                    gone.add(a);
                }
            }
            for (InetAddress a : gone) {
                steering.locals().remove(a);
                mapped.remove(a);
            }
            locals = next;
        }
    }

    /**
     * Re-reads the host's addresses for every interface this process steers on; call it when the
     * addresses change (a netlink address notification). Failures are logged, the old set stays.
     */
    static void refreshAll() {
        List<XdpInterface> all;
        synchronized (ATTACHED) {
            all = new ArrayList<>(ATTACHED.values());
        }
        for (XdpInterface iface : all) {
            try {
                iface.refreshLocalAddresses();
            } catch (IOException | RuntimeException e) {
                logger.warn("cannot refresh the local addresses of {}: {}", iface.link.name(), e.toString());
            }
        }
    }

    int queues() {
        return steering.numQueues();
    }

    /** Takes a free channel slot, or throws when {@link #MAX_SLOTS} channels use this interface. */
    int allocateSlot() throws IOException {
        try {
            return steering.allocateSlot();
        } catch (IllegalStateException e) {
            throw new IOException("too many XDP channels on " + link.name() + " (at most " + MAX_SLOTS + ")", e);
        }
    }

    void setSocket(int slot, int queue, int xskFd) throws BpfException {
        steering.setSocket(slot, queue, xskFd);
    }

    /**
     * Makes {@code member} a server of {@code port} at {@code keys} (see {@link #addPort}): the first
     * channel takes a slot, points every queue at its sockets and adds the steering entries; with
     * {@code reusePort} on it and on every later channel of the same port and addresses, those join its
     * {@link PortGroup} and the queues are split between them.
     *
     * @throws PortTakenException another channel serves exactly this port and address, and not both
     *                            have {@code SO_REUSEPORT}
     */
    PortGroup join(int port, List<InetAddress> keys, boolean reusePort, int maxFrameLen, PortGroup.Member member)
            throws IOException {
        synchronized (ATTACHED) {
            PortKey key = new PortKey(port, List.copyOf(keys));
            PortGroup group = groups.get(key);
            if (group != null) {
                if (!group.admits(reusePort)) {
                    throw new PortTakenException("UDP port " + port + " of " + keys + " on " + link.name()
                            + " is already steered to another XDP channel (set XdpChannelOption.SO_REUSEPORT"
                            + " on every channel of that address and port to split the queues between them)");
                }
                group.join(member);
                return group;
            }
            group = new PortGroup(this, allocateSlot(), reusePort);
            boolean joined = false;
            try {
                group.join(member);
                joined = true;
                addPort(port, keys, group.slot(), maxFrameLen);
            } catch (IOException | RuntimeException e) {
                if (joined) {
                    group.leave(member);
                }
                removeChannel(-1, keys, group.slot());
                throw e;
            }
            groups.put(key, group);
            return group;
        }
    }

    /**
     * Undoes {@link #join}: the group's other members take over {@code member}'s queues; the last one
     * to leave removes the steering entries and frees the slot.
     */
    void leave(int port, List<InetAddress> keys, PortGroup group, PortGroup.Member member) {
        synchronized (ATTACHED) {
            if (group.leave(member)) {
                return;
            }
            groups.remove(new PortKey(port, List.copyOf(keys)), group);
            removeChannel(port, keys, group.slot());
        }
    }

    /**
     * Starts steering UDP to {@code port} of each address of {@code keys} to {@code slot} (a wildcard
     * address: any local address of its family; a dual-stack channel gives both wildcards); fails,
     * steering nothing, if another channel has exactly one of those (port, address) pairs. Re-reads
     * the host's addresses first. Channels bound to different addresses share the port; a wildcard
     * channel and channels bound to specific addresses may coexist, and a frame goes to the channel
     * bound to its destination address before the wildcard one (whether the kernel lets their
     * companion sockets share the port is up to it: SO_REUSEADDR).
     */
    void addPort(int port, List<InetAddress> keys, int slot, int maxFrameLen) throws IOException {
        refreshLocalAddresses();
        synchronized (ATTACHED) {
            for (InetAddress key : keys) {
                if (steering.ports().get(port, key) != null) {
                    throw new PortTakenException("UDP port " + port + " of "
                            + (key.isAnyLocalAddress() ? "any address" : key.getHostAddress()) + " on "
                            + link.name() + " is already steered to another XDP channel");
                }
            }
            for (InetAddress key : keys) {
                steering.putPort(port, key, slot, maxFrameLen);
            }
        }
    }

    /**
     * Sets the longest frame steered to {@code slot} at {@code port} of each address of {@code keys}
     * (0: any length), for the entries that are still the slot's.
     */
    void setPortLimit(int port, List<InetAddress> keys, int slot, int maxFrameLen) throws BpfException {
        synchronized (ATTACHED) {
            for (InetAddress key : keys) {
                PortMap.Entry entry = steering.ports().get(port, key);
                if (entry != null && entry.slot() == slot && entry.maxFrameLen() != maxFrameLen) {
                    steering.putPort(port, key, slot, maxFrameLen);
                }
            }
        }
    }

    /** Stops steering {@code bound:port} to {@code slot} (if that entry is still the slot's). */
    void removePort(int port, InetAddress bound, int slot) throws BpfException {
        synchronized (ATTACHED) {
            PortMap.Entry entry = steering.ports().get(port, bound);
            if (entry != null && entry.slot() == slot) {
                steering.removePort(port, bound);
            }
        }
    }

    /**
     * Marks this attachment dead (the interface was deleted or its program detached by someone
     * else): the next channel on the interface attaches afresh; the users of this one leave as usual.
     */
    void defunct() {
        synchronized (ATTACHED) {
            ATTACHED.remove(link.index(), this);
        }
    }

    /**
     * Undoes {@link #addPort} (when {@code port > 0}; only the entries of {@code keys} still this
     * slot's), the slot's queue sockets and the slot itself.
     */
    void removeChannel(int port, List<InetAddress> keys, int slot) {
        try {
            if (port > 0) {
                synchronized (ATTACHED) {
                    for (InetAddress key : keys) {
                        PortMap.Entry entry = steering.ports().get(port, key);
                        if (entry != null && entry.slot() == slot) {
                            steering.removePort(port, key);
                        }
                    }
                }
            }
            for (int q = 0; q < queues(); q++) {
                steering.clearSocket(slot, q);
            }
        } catch (BpfException ignored) {
            // the maps go away with the program when the last channel leaves
        }
        steering.releaseSlot(slot);
    }

    /** Takes a free raw-channel slot, or throws when {@link #MAX_SLOTS} raw channels use this interface. */
    int allocateRawSlot() throws IOException {
        try {
            return steering.allocateRawSlot();
        } catch (IllegalStateException e) {
            throw new IOException("too many raw XDP channels on " + link.name() + " (at most " + MAX_SLOTS + ")", e);
        }
    }

    void setRawSocket(int slot, int queue, int xskFd) throws BpfException {
        steering.setRawSocket(slot, queue, xskFd);
    }

    /**
     * Starts steering frames {@code match} takes, on the queues of {@code queueMask}, to raw slot
     * {@code slot}: after every filter added before it, and only frames no datagram channel takes.
     */
    void addRawFilter(int slot, FrameMatch match, long queueMask) throws BpfException {
        synchronized (ATTACHED) {
            rawFilters.put(slot, new RawFilterProgram.Entry(slot, match, queueMask));
            try {
                steering.setRawFilters(new ArrayList<>(rawFilters.values()));
            } catch (BpfException | RuntimeException e) {
                rawFilters.remove(slot);
                throw e;
            }
        }
    }

    /** Undoes {@link #addRawFilter}, the slot's queue sockets and the slot itself. */
    void removeRawChannel(int slot) {
        synchronized (ATTACHED) {
            try {
                if (rawFilters.remove(slot) != null) {
                    steering.setRawFilters(new ArrayList<>(rawFilters.values()));
                }
            } catch (BpfException e) {
                logger.warn("cannot update the raw filters of {}: {}", link.name(), e.getMessage());
            }
        }
        try {
            for (int q = 0; q < queues(); q++) {
                steering.clearRawSocket(slot, q);
            }
        } catch (BpfException ignored) {
            // the maps go away with the program when the last channel leaves
        }
        steering.releaseRawSlot(slot);
    }

    /** Drops one user; the last one detaches the program and frees the maps. */
    void release() {
        synchronized (ATTACHED) {
            if (--users == 0) {
                ATTACHED.remove(link.index(), this);
                steering.close();
            }
        }
    }
}
