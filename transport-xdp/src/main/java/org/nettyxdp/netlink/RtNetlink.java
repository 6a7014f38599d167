package org.nettyxdp.netlink;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A client for rtnetlink ({@code NETLINK_ROUTE}): interfaces, addresses, the kernel's route lookup for
 * one destination and neighbour (ARP/NDP) entries, i.e. {@code ip link}, {@code ip addr},
 * {@code ip route get} and {@code ip neigh} as Java calls.
 *
 * <p><b>Network namespace.</b> The socket belongs to the network namespace of the thread that created
 * it, for its whole life, whichever thread uses it later: to query another namespace, open it on a
 * thread that has entered that namespace ({@code setns(CLONE_NEWNET)}).
 *
 * <p>One socket ({@code SOCK_CLOEXEC}), requests numbered by sequence number; multi-part dumps are read
 * up to {@code NLMSG_DONE} and retried if the kernel flags them as interrupted by a concurrent change;
 * kernel errors become {@link NetlinkException} (naming the errno and the kernel's extended-ack text),
 * malformed or truncated replies {@link NetlinkProtocolException}. Replies are read into a 64 KiB
 * buffer; a datagram that does not fit is reported, never silently cut. A reply that takes more than
 * 5 seconds fails with {@code EAGAIN}.
 *
 * <p>Thread-safe: requests are serialized. These are control-path calls; cache the results.
 */
public final class RtNetlink implements AutoCloseable {
    /** Size of the receive buffer: the kernel's dump datagrams are at most 32 KiB. */
    public static final int DEFAULT_RECEIVE_BUFFER = 64 * 1024;

    private static final int IFNAMSIZ = 16;

    private final RtnlSocket socket;

    /** Opens a socket in the calling thread's network namespace. */
    public RtNetlink() throws SyscallException {
        this(DEFAULT_RECEIVE_BUFFER);
    }

    /** For tests: a smaller receive buffer provokes the truncation check. */
    RtNetlink(int receiveBufferSize) throws SyscallException {
        socket = new RtnlSocket(receiveBufferSize);
    }

    /** The netlink port id the kernel assigned to this socket. */
    public int portId() {
        return socket.portId();
    }

    // ---------------------------------------------------------------- links

    /** All interfaces of this namespace ({@code ip link show}). */
    public synchronized List<LinkInfo> links() throws IOException {
        return socket.dump("RTM_GETLINK", "interfaces", () -> {
            socket.begin(Rtnl.RTM_GETLINK, Rtnl.NLM_F_DUMP, IfInfoMsg.SIZE);
            socket.putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
        }, Rtnl.RTM_NEWLINK, (msg, out) -> out.add(LinkInfo.decode(msg)));
    }

    /** The interface with index {@code index}; {@link NetlinkException} with {@code ENODEV} if none. */
    public synchronized LinkInfo link(int index) throws IOException {
        if (index <= 0) {
            throw noSuchInterface("index " + index, null);
        }
        try {
            return socket.single("RTM_GETLINK", "interface index " + index, () -> {
                socket.begin(Rtnl.RTM_GETLINK, 0, IfInfoMsg.SIZE);
                socket.putInt(IfInfoMsg.INDEX, index);
                socket.putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
            }, Rtnl.RTM_NEWLINK, LinkInfo::decode);
        } catch (NetlinkException e) {
            throw e.errno() == Errno.ENODEV ? noSuchInterface("index " + index, e.extAck()) : e;
        }
    }

    /** The interface named {@code name}; {@link NetlinkException} with {@code ENODEV} if none. */
    public synchronized LinkInfo link(String name) throws IOException {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length >= IFNAMSIZ || name.indexOf('\0') >= 0) {
            throw noSuchInterface(name, null); // no interface can have this name
        }
        try {
            return socket.single("RTM_GETLINK", "interface " + name, () -> {
                socket.begin(Rtnl.RTM_GETLINK, 0, IfInfoMsg.SIZE);
                socket.putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
                socket.putAttr(Rtnl.IFLA_IFNAME, Arrays.copyOf(bytes, bytes.length + 1));
            }, Rtnl.RTM_NEWLINK, LinkInfo::decode);
        } catch (NetlinkException e) {
            throw e.errno() == Errno.ENODEV ? noSuchInterface(name, e.extAck()) : e;
        }
    }

    private static NetlinkException noSuchInterface(String what, String extAck) {
        return new NetlinkException("RTM_GETLINK", Errno.ENODEV, "no such interface: " + what, extAck);
    }

    // ------------------------------------------------------------ addresses

    /** Every IPv4 and IPv6 address of every interface ({@code ip addr show}). */
    public List<AddressInfo> addresses() throws IOException {
        return addresses(0);
    }

    /** The IPv4 and IPv6 addresses of interface {@code ifindex}, or of all interfaces if it is 0. */
    public synchronized List<AddressInfo> addresses(int ifindex) throws IOException {
        List<AddressInfo> all = socket.dump("RTM_GETADDR", "addresses", () -> {
            socket.begin(Rtnl.RTM_GETADDR, Rtnl.NLM_F_DUMP, IfAddrMsg.SIZE);
            socket.putInt(IfAddrMsg.INDEX, ifindex); // strict-check filter
        }, Rtnl.RTM_NEWADDR, (msg, out) -> {
            if (isIp(msg.get(JAVA_BYTE, NlMsgHdr.SIZE + IfAddrMsg.FAMILY))) {
                out.add(AddressInfo.decode(msg));
            }
        });
        if (ifindex != 0) {
            all.removeIf(a -> a.ifindex() != ifindex); // kernels without strict checking ignore the filter
        }
        return all;
    }

    /**
     * The index of an interface that has {@code address} configured, or empty if none does. An IPv6
     * address with a scope id only matches on that interface. If several interfaces carry the address,
     * the one the kernel lists first (lowest index) wins.
     */
    public OptionalInt interfaceOwning(InetAddress address) throws IOException {
        byte[] want = address.getAddress();
        int scope = address instanceof Inet6Address v6 ? v6.getScopeId() : 0;
        for (AddressInfo a : addresses(0)) {
            if (Arrays.equals(a.address().getAddress(), want) && (scope == 0 || a.ifindex() == scope)) {
                return OptionalInt.of(a.ifindex());
            }
        }
        return OptionalInt.empty();
    }

    // ---------------------------------------------------------------- route

    /**
     * The kernel's route lookup for {@code destination}, like {@code ip route get}: the output
     * interface, gateway, preferred source and type ({@link Route#RTN_LOCAL} with the loopback device
     * for this host's own addresses). An IPv6 address with a scope id is looked up on that interface.
     * Fails with {@link NetlinkException} when the kernel has no route ({@code ENETUNREACH},
     * {@code EHOSTUNREACH} ...).
     */
    public Route route(InetAddress destination) throws IOException {
        return route(destination, 0);
    }

    /** As {@link #route(InetAddress)}, restricted to output interface {@code oif} when it is not 0. */
    public synchronized Route route(InetAddress destination, int oif) throws IOException {
        byte[] dst = destination.getAddress();
        int family = NlAttrs.family(destination);
        int scopedOif = oif != 0 ? oif
                : destination instanceof Inet6Address v6 ? v6.getScopeId() : 0;
        return socket.single("RTM_GETROUTE", "route to " + destination.getHostAddress(), () -> {
            socket.begin(Rtnl.RTM_GETROUTE, 0, RtMsg.SIZE);
            socket.putByte(RtMsg.FAMILY, family);
            socket.putByte(RtMsg.DST_LEN, dst.length * 8);
            if (family == Linux.AF_INET) {
                // report the table that matched; IPv6 rejects this flag ("Invalid flags for get route request")
                socket.putInt(RtMsg.FLAGS, Rtnl.RTM_F_LOOKUP_TABLE);
            }
            socket.putAttr(Rtnl.RTA_DST, dst);
            if (scopedOif != 0) {
                socket.putAttrU32(Rtnl.RTA_OIF, scopedOif);
            }
        }, Rtnl.RTM_NEWROUTE, msg -> Route.decode(msg, destination));
    }

    /**
     * Every route of {@code family} ({@code AF_INET} or {@code AF_INET6}) in every table, like
     * {@code ip route show table all}; cached clones and exceptions are not listed.
     */
    public synchronized List<RouteEntry> routes(int family) throws IOException {
        return socket.dump("RTM_GETROUTE", "routes", () -> {
            socket.begin(Rtnl.RTM_GETROUTE, Rtnl.NLM_F_DUMP, RtMsg.SIZE);
            socket.putByte(RtMsg.FAMILY, family);
        }, Rtnl.RTM_NEWROUTE, (msg, out) -> {
            if (msg.get(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY) == family) {
                out.add(RouteEntry.decode(msg));
            }
        });
    }

    /** The policy-routing rules of {@code family}, like {@code ip rule show}. */
    public synchronized List<FibRule> rules(int family) throws IOException {
        return socket.dump("RTM_GETRULE", "rules", () -> {
            socket.begin(Rtnl.RTM_GETRULE, Rtnl.NLM_F_DUMP, FibRule.HDR_SIZE);
            socket.putByte(0, family);
        }, Rtnl.RTM_NEWRULE, (msg, out) -> {
            if (msg.get(JAVA_BYTE, NlMsgHdr.SIZE) == family) {
                out.add(FibRule.decode(msg));
            }
        });
    }

    // ------------------------------------------------------------ neighbours

    /**
     * The neighbour entry for {@code address} on interface {@code ifindex} ({@code ip neigh get}), or
     * empty if the kernel has none (it creates one when it first sends there). Check
     * {@link Neighbour#isValid()} before using the MAC.
     */
    public synchronized Optional<Neighbour> neighbour(int ifindex, InetAddress address) throws IOException {
        byte[] dst = address.getAddress();
        int family = NlAttrs.family(address);
        try {
            return Optional.of(socket.single("RTM_GETNEIGH", "neighbour " + address.getHostAddress() + " on ifindex "
                    + ifindex, () -> {
                socket.begin(Rtnl.RTM_GETNEIGH, 0, NdMsg.SIZE);
                socket.putByte(NdMsg.FAMILY, family);
                socket.putInt(NdMsg.IFINDEX, ifindex);
                socket.putAttr(Rtnl.NDA_DST, dst);
            }, Rtnl.RTM_NEWNEIGH, Neighbour::decode));
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return Optional.empty();
            }
            if (e.errno() != Errno.EOPNOTSUPP && e.errno() != Errno.EINVAL) {
                throw e;
            }
        }
        // Kernels before 5.0 have no single-entry get: search the interface's entries.
        for (Neighbour n : neighboursLocked(ifindex)) {
            if (Arrays.equals(n.address().getAddress(), dst)) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }

    /** The IPv4 and IPv6 neighbour entries of interface {@code ifindex}, or of all interfaces if 0. */
    public synchronized List<Neighbour> neighbours(int ifindex) throws IOException {
        return neighboursLocked(ifindex);
    }

    private List<Neighbour> neighboursLocked(int ifindex) throws IOException {
        List<Neighbour> all = socket.dump("RTM_GETNEIGH", "neighbours", () -> {
            socket.begin(Rtnl.RTM_GETNEIGH, Rtnl.NLM_F_DUMP, NdMsg.SIZE);
            if (ifindex != 0) {
                socket.putAttrU32(Rtnl.NDA_IFINDEX, ifindex); // the dump filter; the header's ifindex must be 0
            }
        }, Rtnl.RTM_NEWNEIGH, (msg, out) -> {
            if (isIp(msg.get(JAVA_BYTE, NlMsgHdr.SIZE + NdMsg.FAMILY))) {
                out.add(Neighbour.decode(msg));
            }
        });
        if (ifindex != 0) {
            all.removeIf(n -> n.ifindex() != ifindex);
        }
        return all;
    }

    private static boolean isIp(byte family) {
        return family == Linux.AF_INET || family == Linux.AF_INET6;
    }

    /** Closes the socket; later calls fail with {@link IllegalStateException}. Idempotent. */
    @Override
    public synchronized void close() {
        socket.close();
    }

    @Override
    public synchronized String toString() {
        return socket.toString();
    }
}
