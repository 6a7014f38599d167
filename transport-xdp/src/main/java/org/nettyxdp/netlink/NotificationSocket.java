package org.nettyxdp.netlink;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The {@code NETLINK_ROUTE} socket an {@link RtnlMonitor} receives notifications on: joined to the link,
 * neighbour, IPv4/IPv6 address and route and IPv4 rule multicast groups, with a receive timeout so that
 * its reader notices a close. One reader thread.
 */
final class NotificationSocket implements AutoCloseable {
    private static final int RTMGRP_LINK = 0x1;
    private static final int RTMGRP_NEIGH = 0x4;
    private static final int RTMGRP_IPV4_IFADDR = 0x10;
    private static final int RTMGRP_IPV4_ROUTE = 0x40;
    private static final int RTMGRP_IPV4_RULE = 0x80;
    private static final int RTMGRP_IPV6_IFADDR = 0x100;
    private static final int RTMGRP_IPV6_ROUTE = 0x400;
    private static final int SO_RCVBUF = 8;
    private static final int SO_RCVBUFFORCE = 33;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int BUFFER = 256 * 1024;
    /**
     * Most datagrams one {@link #receive} takes: the kernel sends each notification alone, and a burst
     * (a table of routes being added) is applied as one change rather than one by one.
     */
    private static final int MAX_DATAGRAMS = 4096;
    /** Receive timeout: how soon a closed monitor's thread notices. */
    private static final long WAIT_MILLIS = 200;

    /** Takes the notifications of one datagram, one message at a time. */
    interface Handler {
        /** One notification of netlink type {@code type}; {@code msg} starts at its {@code nlmsghdr}. */
        void notified(int type, MemorySegment msg) throws NetlinkProtocolException;

        /** A notification that could not be decoded was skipped. */
        void malformed(NetlinkProtocolException e);

        /** Notifications were lost (the socket overran): the state must be read again. */
        void overrun() throws IOException;
    }

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rx;

    /** Opens the socket in the calling thread's network namespace. */
    NotificationSocket() throws IOException {
        int s = Syscalls.socket(Linux.AF_NETLINK, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, Rtnl.NETLINK_ROUTE);
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
        } catch (IOException | RuntimeException e) {
            Syscalls.close(s);
            arena.close();
            throw e;
        }
        this.fd = s;
    }

    /**
     * Reads the datagrams of notifications waiting (at least one, or returns after the receive
     * timeout; at most {@value #MAX_DATAGRAMS}) and hands each message to {@code handler}. True when
     * the datagrams were handled to their end (not after a timeout, an overrun or a truncated message).
     */
    boolean receive(Handler handler) throws IOException {
        int flags = 0;
        for (int d = 0; d < MAX_DATAGRAMS; d++, flags = Linux.MSG_DONTWAIT) {
            long n = Syscalls.recvfromRaw(fd, rx, rx.byteSize(), flags, MemorySegment.NULL, MemorySegment.NULL);
            if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                return d > 0; // timed out, or nothing more waiting
            }
            if (n == -Errno.ENOBUFS) {
                handler.overrun();
                return false;
            }
            if (n < 0) {
                throw new SyscallException("recvfrom(NETLINK_ROUTE monitor)", (int) -n);
            }
            for (int pos = 0; n - pos >= NlMsgHdr.SIZE; ) {
                int len = NlMsgHdr.len(rx, pos);
                if (len < NlMsgHdr.SIZE || len > n - pos) {
                    return false;
                }
                try {
                    handler.notified(NlMsgHdr.type(rx, pos), rx.asSlice(pos, len));
                } catch (NetlinkProtocolException e) {
                    handler.malformed(e);
                }
                pos += Rtnl.align(len);
            }
        }
        return true;
    }

    /** Closes the socket; only by the reader thread, once it stopped reading. */
    @Override
    public void close() {
        Syscalls.close(fd);
        arena.close();
    }
}
