package org.nettyxdp.netlink;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A client for rtnetlink ({@code NETLINK_ROUTE}): interfaces, addresses, the kernel's route lookup for
 * one destination and neighbour (ARP/NDP) entries, i.e. {@code ip link}, {@code ip addr},
 * {@code ip route get} and {@code ip neigh} as Java calls.
 *
 * <p><b>Network namespace.</b> The socket belongs to the network namespace of the thread that created
 * it, for its whole life, whichever thread uses it later. {@link #openIn(String)} opens one inside
 * another namespace (e.g. {@code ip netns add X}) without moving the caller.
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

    private static final int REQUEST_BUFFER = 512;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int RECEIVE_TIMEOUT_SECONDS = 5;
    private static final int DUMP_ATTEMPTS = 10;
    private static final int IFNAMSIZ = 16;

    private final int fd;
    private final int portId;
    private final Arena arena;
    private final MemorySegment rx;
    private final MemorySegment tx;
    private final MemorySegment kernel;
    private final MemorySegment from;
    private final MemorySegment fromLen;
    private int seq;
    private int txLen;
    private boolean closed;

    /** Opens a socket in the calling thread's network namespace. */
    public RtNetlink() throws SyscallException {
        this(DEFAULT_RECEIVE_BUFFER);
    }

    /** For tests: a smaller receive buffer provokes the truncation check. */
    RtNetlink(int receiveBufferSize) throws SyscallException {
        int s = Syscalls.socket(Linux.AF_NETLINK, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, Rtnl.NETLINK_ROUTE);
        Arena a = Arena.ofShared();
        try {
            rx = a.allocate(receiveBufferSize, 8);
            tx = a.allocate(REQUEST_BUFFER, 8);
            kernel = a.allocate(SOCKADDR_NL_SIZE, 4); // sockaddr_nl{AF_NETLINK, pad, pid 0, groups 0}
            kernel.set(JAVA_SHORT, 0, (short) Linux.AF_NETLINK);
            from = a.allocate(SOCKADDR_NL_SIZE, 4);
            fromLen = a.allocate(JAVA_INT);

            MemorySegment local = a.allocate(SOCKADDR_NL_SIZE, 4);
            local.set(JAVA_SHORT, 0, (short) Linux.AF_NETLINK); // pid 0: the kernel picks our port id
            Syscalls.bind(s, local, SOCKADDR_NL_SIZE, "AF_NETLINK");
            fromLen.set(JAVA_INT, 0, SOCKADDR_NL_SIZE);
            Syscalls.getsockname(s, local, fromLen);
            portId = local.get(JAVA_INT, 4);

            optionalSockopt(s, Rtnl.NETLINK_EXT_ACK);        // 4.12+: error strings in NLMSG_ERROR
            optionalSockopt(s, Rtnl.NETLINK_CAP_ACK);        // 4.3+: errors do not echo our request
            optionalSockopt(s, Rtnl.NETLINK_GET_STRICT_CHK); // 4.20+: dump filters are honoured, bad requests rejected
            MemorySegment timeout = a.allocate(16, 8);       // struct timeval
            timeout.set(JAVA_LONG, 0, RECEIVE_TIMEOUT_SECONDS);
            Syscalls.setsockopt(s, Linux.SOL_SOCKET, Rtnl.SO_RCVTIMEO, timeout, 16, "SO_RCVTIMEO");
        } catch (SyscallException | RuntimeException e) {
            Syscalls.close(s);
            a.close();
            throw e;
        }
        fd = s;
        arena = a;
        seq = (int) (System.nanoTime() & 0x3fff_ffff);
    }

    private static void optionalSockopt(int s, int option) {
        try {
            Syscalls.setsockopt(s, Rtnl.SOL_NETLINK, option, 1, "SOL_NETLINK " + option);
        } catch (SyscallException ignored) {
            // older kernel: the feature is a nicety, not a requirement
        }
    }

    /**
     * Opens a socket inside another network namespace: {@code netns} is a name under
     * {@code /var/run/netns} (as {@code ip netns add} creates) or a path such as
     * {@code /proc/<pid>/ns/net}. A short-lived platform thread enters the namespace and creates the
     * socket; the caller's thread is not moved. Needs {@code CAP_SYS_ADMIN}.
     */
    public static RtNetlink openIn(String netns) throws IOException {
        String path = netns.indexOf('/') >= 0 ? netns : "/var/run/netns/" + netns;
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("rtnetlink-setns").daemon().start(() -> {
            try {
                int nsfd = Syscalls.open(path, Linux.O_RDONLY | Linux.O_CLOEXEC);
                try {
                    Syscalls.setns(nsfd, Linux.CLONE_NEWNET);
                } finally {
                    Syscalls.close(nsfd);
                }
                result.set(new RtNetlink());
            } catch (Throwable e) {
                result.set(e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening rtnetlink in " + path, e);
        }
        Object r = result.get();
        if (r instanceof RtNetlink nl) {
            return nl;
        }
        if (r instanceof IOException e) {
            throw e;
        }
        if (r instanceof RuntimeException e) {
            throw e;
        }
        throw new IOException("cannot open rtnetlink in " + path, (Throwable) r);
    }

    /** The netlink port id the kernel assigned to this socket. */
    public int portId() {
        return portId;
    }

    // ---------------------------------------------------------------- links

    /** All interfaces of this namespace ({@code ip link show}). */
    public synchronized List<LinkInfo> links() throws IOException {
        return dump("RTM_GETLINK", "interfaces", () -> {
            begin(Rtnl.RTM_GETLINK, Rtnl.NLM_F_DUMP, IfInfoMsg.SIZE);
            putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
        }, Rtnl.RTM_NEWLINK, (msg, out) -> out.add(LinkInfo.decode(msg)));
    }

    /** The interface with index {@code index}; {@link NetlinkException} with {@code ENODEV} if none. */
    public synchronized LinkInfo link(int index) throws IOException {
        if (index <= 0) {
            throw noSuchInterface("index " + index, null);
        }
        try {
            return single("RTM_GETLINK", "interface index " + index, () -> {
                begin(Rtnl.RTM_GETLINK, 0, IfInfoMsg.SIZE);
                tx.set(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE + IfInfoMsg.INDEX, index);
                putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
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
            return single("RTM_GETLINK", "interface " + name, () -> {
                begin(Rtnl.RTM_GETLINK, 0, IfInfoMsg.SIZE);
                putAttrU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
                putAttr(Rtnl.IFLA_IFNAME, Arrays.copyOf(bytes, bytes.length + 1));
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
        List<AddressInfo> all = dump("RTM_GETADDR", "addresses", () -> {
            begin(Rtnl.RTM_GETADDR, Rtnl.NLM_F_DUMP, IfAddrMsg.SIZE);
            tx.set(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE + IfAddrMsg.INDEX, ifindex); // strict-check filter
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
        return single("RTM_GETROUTE", "route to " + destination.getHostAddress(), () -> {
            begin(Rtnl.RTM_GETROUTE, 0, RtMsg.SIZE);
            tx.set(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY, (byte) family);
            tx.set(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.DST_LEN, (byte) (dst.length * 8));
            if (family == Linux.AF_INET) {
                // report the table that matched; IPv6 rejects this flag ("Invalid flags for get route request")
                tx.set(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE + RtMsg.FLAGS, Rtnl.RTM_F_LOOKUP_TABLE);
            }
            putAttr(Rtnl.RTA_DST, dst);
            if (scopedOif != 0) {
                putAttrU32(Rtnl.RTA_OIF, scopedOif);
            }
        }, Rtnl.RTM_NEWROUTE, msg -> Route.decode(msg, destination));
    }

    /**
     * Every route of {@code family} ({@code AF_INET} or {@code AF_INET6}) in every table, like
     * {@code ip route show table all}; cached clones and exceptions are not listed.
     */
    public synchronized List<RouteEntry> routes(int family) throws IOException {
        return dump("RTM_GETROUTE", "routes", () -> {
            begin(Rtnl.RTM_GETROUTE, Rtnl.NLM_F_DUMP, RtMsg.SIZE);
            tx.set(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY, (byte) family);
        }, Rtnl.RTM_NEWROUTE, (msg, out) -> {
            if (msg.get(JAVA_BYTE, NlMsgHdr.SIZE + RtMsg.FAMILY) == family) {
                out.add(RouteEntry.decode(msg));
            }
        });
    }

    /** The policy-routing rules of {@code family}, like {@code ip rule show}. */
    public synchronized List<FibRule> rules(int family) throws IOException {
        return dump("RTM_GETRULE", "rules", () -> {
            begin(Rtnl.RTM_GETRULE, Rtnl.NLM_F_DUMP, FibRule.HDR_SIZE);
            tx.set(JAVA_BYTE, NlMsgHdr.SIZE, (byte) family);
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
            return Optional.of(single("RTM_GETNEIGH", "neighbour " + address.getHostAddress() + " on ifindex "
                    + ifindex, () -> {
                begin(Rtnl.RTM_GETNEIGH, 0, NdMsg.SIZE);
                tx.set(JAVA_BYTE, NlMsgHdr.SIZE + NdMsg.FAMILY, (byte) family);
                tx.set(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE + NdMsg.IFINDEX, ifindex);
                putAttr(Rtnl.NDA_DST, dst);
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
        List<Neighbour> all = dump("RTM_GETNEIGH", "neighbours", () -> {
            begin(Rtnl.RTM_GETNEIGH, Rtnl.NLM_F_DUMP, NdMsg.SIZE);
            if (ifindex != 0) {
                putAttrU32(Rtnl.NDA_IFINDEX, ifindex); // the dump filter; the header's ifindex must be 0
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
        if (!closed) {
            closed = true;
            Syscalls.close(fd);
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "RtNetlink[fd=" + fd + ", port=" + portId + (closed ? ", closed]" : "]");
    }

    // ------------------------------------------------------------ requests

    private void begin(int type, int flags, int structSize) {
        tx.fill((byte) 0);
        txLen = NlMsgHdr.SIZE + structSize;
        NlMsgHdr.write(tx, 0, 0, type, Rtnl.NLM_F_REQUEST | flags, 0, 0);
    }

    private void putAttr(int type, byte[] value) {
        int len = NlAttrs.HEADER + value.length;
        if (txLen + Rtnl.align(len) > REQUEST_BUFFER) {
            throw new IllegalStateException("netlink request exceeds " + REQUEST_BUFFER + " bytes");
        }
        tx.set(JAVA_SHORT_UNALIGNED, txLen, (short) len);
        tx.set(JAVA_SHORT_UNALIGNED, txLen + 2, (short) type);
        MemorySegment.copy(value, 0, tx, JAVA_BYTE, txLen + NlAttrs.HEADER, value.length);
        txLen += Rtnl.align(len);
    }

    private void putAttrU32(int type, int value) {
        putAttr(type, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
    }

    private interface RequestWriter {
        void write();
    }

    private interface Decoder<T> {
        T decode(MemorySegment msg) throws NetlinkProtocolException;
    }

    private interface Collector<T> {
        void accept(MemorySegment msg, List<T> out) throws NetlinkProtocolException;
    }

    private interface Handler {
        void accept(MemorySegment msg) throws NetlinkProtocolException;
    }

    /** A request answered by exactly one message. */
    private <T> T single(String call, String what, RequestWriter writer, int replyType, Decoder<T> decoder)
            throws IOException {
        writer.write();
        List<T> out = new ArrayList<>(1);
        exchange(call, what, false, replyType, msg -> out.add(decoder.decode(msg)));
        if (out.size() != 1) {
            throw new NetlinkProtocolException(call + " (" + what + ") answered with " + out.size() + " messages");
        }
        return out.get(0);
    }

    /** A dump, repeated while the kernel marks it interrupted ({@code NLM_F_DUMP_INTR}). */
    private <T> List<T> dump(String call, String what, RequestWriter writer, int replyType, Collector<T> collector)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            writer.write();
            List<T> out = new ArrayList<>();
            boolean interrupted = exchange(call, what, true, replyType, msg -> collector.accept(msg, out));
            if (!interrupted) {
                return out;
            }
            if (attempt == DUMP_ATTEMPTS) {
                throw new NetlinkProtocolException(call + " dump of " + what + " was interrupted by concurrent changes "
                        + DUMP_ATTEMPTS + " times in a row");
            }
        }
    }

    /**
     * Sends the request in {@code tx[0, txLen)} and feeds each reply message of type {@code replyType}
     * to {@code handler}; returns whether a dump was flagged inconsistent. Messages of earlier requests
     * (stale sequence numbers) are skipped. If anything fails half-way through a dump, the rest of it is
     * drained so the socket stays usable (the kernel refuses new dumps while one is pending).
     */
    private boolean exchange(String call, String what, boolean dump, int replyType, Handler handler)
            throws IOException {
        if (closed) {
            throw new IllegalStateException("RtNetlink is closed");
        }
        int mySeq = ++seq;
        NlMsgHdr.write(tx, 0, txLen, NlMsgHdr.type(tx, 0), NlMsgHdr.flags(tx, 0), mySeq, 0);
        send(call);
        boolean done = false;
        boolean interrupted = false;
        try {
            while (!done) {
                int n = receive(call);
                int pos = 0;
                while (pos < n && !done) {
                    if (n - pos < NlMsgHdr.SIZE) {
                        throw new NetlinkProtocolException(call + ": " + (n - pos) + " trailing bytes after message");
                    }
                    int len = NlMsgHdr.len(rx, pos);
                    if (len < NlMsgHdr.SIZE || len > n - pos) {
                        throw new NetlinkProtocolException(call + ": message length " + len + " at offset " + pos
                                + " of a " + n + "-byte datagram");
                    }
                    int type = NlMsgHdr.type(rx, pos);
                    int flags = NlMsgHdr.flags(rx, pos);
                    if (NlMsgHdr.seq(rx, pos) == mySeq && NlMsgHdr.pid(rx, pos) == portId) {
                        MemorySegment msg = rx.asSlice(pos, len);
                        if ((flags & Rtnl.NLM_F_DUMP_INTR) != 0) {
                            interrupted = true;
                        }
                        switch (type) {
                            case Rtnl.NLMSG_NOOP -> { }
                            case Rtnl.NLMSG_ERROR -> {
                                done = true;
                                checkError(call, what, msg, NlMsgHdr.SIZE + 4 + NlMsgHdr.SIZE, true);
                            }
                            case Rtnl.NLMSG_DONE -> {
                                done = true;
                                if (len >= NlMsgHdr.SIZE + 4) {
                                    checkError(call, what, msg, NlMsgHdr.SIZE + 4, false);
                                }
                            }
                            case Rtnl.NLMSG_OVERRUN -> throw new NetlinkProtocolException(call + ": NLMSG_OVERRUN");
                            default -> {
                                if (type != replyType) {
                                    throw new NetlinkProtocolException(call + " (" + what + "): unexpected reply "
                                            + Rtnl.typeName(type));
                                }
                                handler.accept(msg);
                                if (!dump && (flags & Rtnl.NLM_F_MULTI) == 0) {
                                    done = true;
                                }
                            }
                        }
                    }
                    pos += Math.min(Rtnl.align(len), n - pos);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!done) {
                drain(mySeq);
            }
            throw e;
        }
        return interrupted;
    }

    /** Throws if the int at {@link NlMsgHdr#SIZE} of an NLMSG_ERROR/NLMSG_DONE is a negative errno. */
    private static void checkError(String call, String what, MemorySegment msg, int tlvStart, boolean isError)
            throws NetlinkException, NetlinkProtocolException {
        int len = (int) msg.byteSize();
        if (len < NlMsgHdr.SIZE + 4) {
            throw new NetlinkProtocolException(call + ": NLMSG_ERROR of " + len + " bytes");
        }
        int error = msg.get(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE);
        if (error >= 0) {
            return; // an ACK, or a clean end of dump
        }
        String extAck = null;
        int flags = NlMsgHdr.flags(msg, 0);
        if ((flags & Rtnl.NLM_F_ACK_TLVS) != 0) {
            int start = tlvStart;
            if (isError && (flags & Rtnl.NLM_F_CAPPED) == 0 && len >= tlvStart) {
                start = NlMsgHdr.SIZE + 4 + Rtnl.align(NlMsgHdr.len(msg, NlMsgHdr.SIZE + 4)); // echoed request
            }
            if (start <= len) {
                extAck = NlAttrs.parse(msg, start, len, Rtnl.NLMSGERR_ATTR_OFFS).string(Rtnl.NLMSGERR_ATTR_MSG);
            }
        }
        throw new NetlinkException(call, -error, what, extAck);
    }

    /** Best effort: reads until the end of request {@code mySeq} so the next request starts clean. */
    private void drain(int mySeq) {
        try {
            for (int datagrams = 0; datagrams < 10_000; datagrams++) {
                // a truncated datagram still shows its first headers: only those are needed here
                int n = receive("drain", true);
                for (int pos = 0; n - pos >= NlMsgHdr.SIZE; ) {
                    int len = NlMsgHdr.len(rx, pos);
                    if (len < NlMsgHdr.SIZE || len > n - pos) {
                        break;
                    }
                    int type = NlMsgHdr.type(rx, pos);
                    if (NlMsgHdr.seq(rx, pos) == mySeq && (type == Rtnl.NLMSG_DONE || type == Rtnl.NLMSG_ERROR
                            || (NlMsgHdr.flags(rx, pos) & Rtnl.NLM_F_MULTI) == 0)) {
                        return;
                    }
                    pos += Rtnl.align(len);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // nothing more to read, or the socket is broken: the next request will tell
        }
    }

    private void send(String call) throws SyscallException {
        for (;;) {
            long r = Syscalls.sendtoRaw(fd, tx, txLen, 0, kernel, SOCKADDR_NL_SIZE);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                throw new SyscallException("sendto(NETLINK_ROUTE " + call + ")", (int) -r);
            }
            if (r != txLen) {
                throw new SyscallException("sendto(NETLINK_ROUTE " + call + ")", Errno.EMSGSIZE,
                        "sent " + r + " of " + txLen + " bytes");
            }
            return;
        }
    }

    /** One datagram from the kernel into {@code rx}; returns its length. */
    private int receive(String call) throws IOException {
        return receive(call, false);
    }

    /** One datagram; a truncated one throws unless {@code truncatedOk}, which returns the part kept. */
    private int receive(String call, boolean truncatedOk) throws IOException {
        for (;;) {
            fromLen.set(JAVA_INT, 0, SOCKADDR_NL_SIZE);
            long n = Syscalls.recvfromRaw(fd, rx, rx.byteSize(), Linux.MSG_TRUNC, from, fromLen);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n == -Errno.EAGAIN) {
                throw new SyscallException("recvfrom(NETLINK_ROUTE " + call + ")", Errno.EAGAIN,
                        "no reply from the kernel within " + RECEIVE_TIMEOUT_SECONDS + " s");
            }
            if (n < 0) {
                throw new SyscallException("recvfrom(NETLINK_ROUTE " + call + ")", (int) -n);
            }
            if (n > rx.byteSize() && !truncatedOk) {
                throw new NetlinkProtocolException(call + ": reply of " + n + " bytes truncated to the "
                        + rx.byteSize() + "-byte receive buffer");
            }
            if (from.get(JAVA_INT, 4) != 0) {
                continue; // not from the kernel (nl_pid != 0): ignore
            }
            return (int) Math.min(n, rx.byteSize());
        }
    }
}
