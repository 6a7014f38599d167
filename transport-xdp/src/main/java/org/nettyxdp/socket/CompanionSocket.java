package org.nettyxdp.socket;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.MulticastRequest;
import org.nettyxdp.sys.SockAddr;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The kernel UDP socket every datagram channel keeps beside its AF_XDP sockets. Bound to
 * the channel's address and port, it reserves the port on the host and is the slow path: it sends
 * what the fast path cannot (unresolved neighbours, other interfaces, multicast, oversize), receives
 * what the steering program passes to the kernel, holds the standard socket options and reports ICMP
 * errors such as port unreachable.
 *
 * <p>IPv6 sockets are dual-stack, as NIO's are. Owned by the channel's event loop, except the option
 * setters, which the kernel serialises.
 */
public final class CompanionSocket implements AutoCloseable {
    /** The largest datagram the socket sends or receives. */
    public static final int MAX_DATAGRAM = 65536;

    private final int fd;
    private final boolean ipv6;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment addr = arena.allocate(SockAddr.STORAGE_SIZE, 8);
    private final MemorySegment addrLen = arena.allocate(JAVA_INT);
    private final MemorySegment scratch = arena.allocate(MAX_DATAGRAM, 64);
    private volatile boolean closed;

    /** An unbound, non-blocking UDP socket; IPv6 ones are dual-stack. */
    public CompanionSocket(boolean ipv6) throws SyscallException {
        this.ipv6 = ipv6;
        this.fd = Syscalls.socket(ipv6 ? Linux.AF_INET6 : Linux.AF_INET,
                Linux.SOCK_DGRAM | Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC, 0);
        if (ipv6) {
            Syscalls.setsockopt(fd, Linux.IPPROTO_IPV6, Linux.IPV6_V6ONLY, 0, "IPV6_V6ONLY");
        }
    }

    public int fd() {
        return fd;
    }

    public boolean isIpv6() {
        return ipv6;
    }

    /** Native scratch space of {@link #MAX_DATAGRAM} bytes, for copying datagrams in and out. */
    public MemorySegment scratch() {
        return scratch;
    }

    private int writeAddress(MemorySegment dst, InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (!ipv6 && ip instanceof Inet6Address) {
            throw new IllegalArgumentException("IPv6 address " + ip + " on an IPv4 channel");
        }
        return SockAddr.write(dst, address, ipv6);
    }

    public void bind(InetSocketAddress local) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(SockAddr.STORAGE_SIZE, 8);
            int len = writeAddress(sa, local);
            Syscalls.bind(fd, sa, len, "UDP " + local);
        }
    }

    public void connect(InetSocketAddress remote) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(SockAddr.STORAGE_SIZE, 8);
            int len = writeAddress(sa, remote);
            Syscalls.connect(fd, sa, len);
        }
    }

    /** Dissolves the association (connect to {@code AF_UNSPEC}); the local address stays. */
    public void disconnect() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(SockAddr.STORAGE_SIZE, 8);
            Syscalls.connect(fd, sa, ipv6 ? SockAddr.IN6_SIZE : SockAddr.IN_SIZE);
        }
    }

    /** The bound address, with IPv4-mapped addresses shown as IPv4 (as NIO does), or null if unbound. */
    public InetSocketAddress localAddress() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(SockAddr.STORAGE_SIZE, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, SockAddr.STORAGE_SIZE);
            Syscalls.getsockname(fd, sa, len);
            InetSocketAddress local = SockAddr.read(sa);
            return local.getPort() == 0 ? null : local;
        }
    }

    /**
     * Sends {@code len} bytes of {@link #scratch()} to {@code to} (null when connected).
     *
     * @return bytes sent, or {@code -errno}
     */
    public int sendScratch(int len, InetSocketAddress to) {
        if (to == null) {
            return (int) Syscalls.sendtoRaw(fd, scratch, len, Linux.MSG_DONTWAIT, MemorySegment.NULL, 0);
        }
        int alen = writeAddress(addr, to);
        return (int) Syscalls.sendtoRaw(fd, scratch, len, Linux.MSG_DONTWAIT, addr, alen);
    }

    /**
     * Receives one datagram into {@link #scratch()}.
     *
     * @return its length, or {@code -errno} ({@code -EAGAIN} when none is queued)
     */
    public int receiveScratch() {
        addrLen.set(JAVA_INT, 0, SockAddr.STORAGE_SIZE);
        return (int) Syscalls.recvfromRaw(fd, scratch, MAX_DATAGRAM, Linux.MSG_DONTWAIT, addr, addrLen);
    }

    /** The sender of the datagram last received, IPv4-mapped addresses shown as IPv4. */
    public InetSocketAddress lastSender() {
        return SockAddr.read(addr);
    }

    /** Reads and clears the socket's pending error ({@code SO_ERROR}); 0 if none. */
    public int takeError() {
        try {
            return Syscalls.getsockoptInt(fd, Linux.SOL_SOCKET, Linux.SO_ERROR, "SO_ERROR");
        } catch (SyscallException e) {
            return e.errno();
        }
    }

    public int getInt(int level, int option, String name) throws IOException {
        return Syscalls.getsockoptInt(fd, level, option, name);
    }

    public void setInt(int level, int option, int value, String name) throws IOException {
        Syscalls.setsockopt(fd, level, option, value, name);
    }

    public void setTrafficClass(int tc) throws IOException {
        if (ipv6) {
            setInt(Linux.IPPROTO_IPV6, Linux.IPV6_TCLASS, tc, "IPV6_TCLASS");
        }
        setInt(Linux.IPPROTO_IP, Linux.IP_TOS, tc, "IP_TOS");
    }

    public boolean isMulticastLoop() throws IOException {
        return ipv6
                ? getInt(Linux.IPPROTO_IPV6, Linux.IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP") != 0
                : getInt(Linux.IPPROTO_IP, Linux.IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP") != 0;
    }

    public void setMulticastLoop(boolean loop) throws IOException {
        if (ipv6) {
            setInt(Linux.IPPROTO_IPV6, Linux.IPV6_MULTICAST_LOOP, loop ? 1 : 0, "IPV6_MULTICAST_LOOP");
        }
        setInt(Linux.IPPROTO_IP, Linux.IP_MULTICAST_LOOP, loop ? 1 : 0, "IP_MULTICAST_LOOP");
    }

    public int getMulticastTtl() throws IOException {
        return ipv6
                ? getInt(Linux.IPPROTO_IPV6, Linux.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS")
                : getInt(Linux.IPPROTO_IP, Linux.IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
    }

    public void setMulticastTtl(int ttl) throws IOException {
        if (ipv6) {
            setInt(Linux.IPPROTO_IPV6, Linux.IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
        }
        setInt(Linux.IPPROTO_IP, Linux.IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
    }

    public void setMulticastInterface(NetworkInterface ni) throws IOException {
        if (ni == null) {
            return;
        }
        if (ipv6) {
            setInt(Linux.IPPROTO_IPV6, Linux.IPV6_MULTICAST_IF, ni.getIndex(), "IPV6_MULTICAST_IF");
        }
        Inet4Address v4 = ni.inetAddresses().filter(a -> a instanceof Inet4Address).map(a -> (Inet4Address) a)
                .findFirst().orElse(null);
        if (v4 != null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment mreqn = a.allocate(MulticastRequest.IP_MREQN);
                int len = MulticastRequest.writeIpMreqn(mreqn, null, v4.getAddress(), ni.getIndex());
                Syscalls.setsockopt(fd, Linux.IPPROTO_IP, Linux.IP_MULTICAST_IF, mreqn, len, "IP_MULTICAST_IF");
            }
        } else if (!ipv6) {
            throw new IOException("NetworkInterface " + ni.getName() + " has no IPv4 address");
        }
    }

    /** Joins or leaves {@code group} on interface {@code ni} (or the default one when null). */
    public void membership(InetAddress group, NetworkInterface ni, boolean join) throws IOException {
        int ifindex = ni == null ? 0 : ni.getIndex();
        try (Arena a = Arena.ofConfined()) {
            if (group instanceof Inet4Address) {
                MemorySegment mreqn = a.allocate(MulticastRequest.IP_MREQN);
                int len = MulticastRequest.writeIpMreqn(mreqn, group.getAddress(), null, ifindex);
                Syscalls.setsockopt(fd, Linux.IPPROTO_IP, join ? Linux.IP_ADD_MEMBERSHIP : Linux.IP_DROP_MEMBERSHIP,
                        mreqn, len, join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP");
            } else {
                if (!ipv6) {
                    throw new IOException("IPv6 group " + group + " on an IPv4 channel");
                }
                MemorySegment mreq = a.allocate(MulticastRequest.IPV6_MREQ);
                int len = MulticastRequest.writeIpv6Mreq(mreq, group.getAddress(), ifindex);
                Syscalls.setsockopt(fd, Linux.IPPROTO_IPV6,
                        join ? Linux.IPV6_ADD_MEMBERSHIP : Linux.IPV6_DROP_MEMBERSHIP, mreq, len,
                        join ? "IPV6_ADD_MEMBERSHIP" : "IPV6_DROP_MEMBERSHIP");
            }
        }
    }

    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Syscalls.close(fd);
            arena.close();
        }
    }

    /** True if {@code errno} from a send means "try later" rather than failure. */
    public static boolean isTransient(int errno) {
        return errno == Errno.EAGAIN || errno == Errno.ENOBUFS || errno == Errno.EINTR;
    }
}
