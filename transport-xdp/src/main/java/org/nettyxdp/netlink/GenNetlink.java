package org.nettyxdp.netlink;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A generic-netlink ({@code NETLINK_GENERIC}) client for the one query the transport needs: the
 * {@code netdev} family's {@code NETDEV_CMD_DEV_GET} ({@code ynl --family netdev --do dev-get}),
 * which reports a device's XDP and AF_XDP features. The family id is resolved by name with
 * {@code CTRL_CMD_GETFAMILY}; a kernel without the family (before 6.3) answers {@link NetdevFeatures#NONE}.
 *
 * <p>Control-path only; one socket per instance, in the calling thread's network namespace.
 */
public final class GenNetlink implements AutoCloseable {
    static final int NETLINK_GENERIC = 16;
    static final int GENL_ID_CTRL = 0x10;
    static final int CTRL_CMD_GETFAMILY = 3;
    static final int CTRL_ATTR_FAMILY_ID = 1;
    static final int CTRL_ATTR_FAMILY_NAME = 2;
    static final int NETDEV_CMD_DEV_GET = 1;
    static final int NETDEV_A_DEV_IFINDEX = 1;
    static final int NETDEV_A_DEV_XDP_FEATURES = 3;
    static final int NETDEV_A_DEV_XSK_FEATURES = 6;
    private static final int GENL_HDRLEN = 4;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int BUFFER = 16 * 1024;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf;
    private final MemorySegment kernel;
    private int seq = (int) (System.nanoTime() & 0x3fff_ffff);
    private int netdevFamily = -1;

    /** Opens a socket in the calling thread's network namespace. */
    public GenNetlink() throws SyscallException {
        try {
            fd = Syscalls.socket(Linux.AF_NETLINK, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, NETLINK_GENERIC);
        } catch (SyscallException e) {
            arena.close();
            throw e;
        }
        buf = arena.allocate(BUFFER, 8);
        kernel = arena.allocate(SOCKADDR_NL_SIZE, 4);
        kernel.set(JAVA_SHORT, 0, (short) Linux.AF_NETLINK);
        try {
            MemorySegment timeout = arena.allocate(16, 8);
            timeout.set(JAVA_LONG, 0, 5);
            Syscalls.setsockopt(fd, Linux.SOL_SOCKET, Rtnl.SO_RCVTIMEO, timeout, 16, "SO_RCVTIMEO");
        } catch (SyscallException e) {
            close();
            throw e;
        }
    }

    /** {@link #devGet} on a short-lived socket of the calling thread's namespace. */
    public static NetdevFeatures netdevFeatures(int ifindex) throws IOException {
        try (GenNetlink genl = new GenNetlink()) {
            return genl.devGet(ifindex);
        }
    }

    /**
     * The family id of {@code name}, or -1 if this kernel has no such family.
     *
     * @throws NetlinkException on another kernel error
     */
    public int familyId(String name) throws IOException {
        byte[] n = (name + '\0').getBytes(StandardCharsets.UTF_8);
        int len = begin(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
        len = putAttr(len, CTRL_ATTR_FAMILY_NAME, n);
        MemorySegment reply;
        try {
            reply = transact(len, "CTRL_CMD_GETFAMILY " + name);
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return -1;
            }
            throw e;
        }
        NlAttrs attrs = NlAttrs.parse(reply, NlMsgHdr.SIZE + GENL_HDRLEN, (int) reply.byteSize(), CTRL_ATTR_FAMILY_NAME);
        if (attrs.length(CTRL_ATTR_FAMILY_ID) < 2) {
            throw new NetlinkProtocolException("CTRL_CMD_GETFAMILY " + name + ": reply without a family id");
        }
        return Short.toUnsignedInt(reply.get(JAVA_SHORT_UNALIGNED, attrOffset(reply, CTRL_ATTR_FAMILY_ID)));
    }

    /** {@code NETDEV_CMD_DEV_GET} for {@code ifindex}; {@link NetdevFeatures#NONE} without the family. */
    public NetdevFeatures devGet(int ifindex) throws IOException {
        if (netdevFamily < 0) {
            netdevFamily = familyId("netdev");
            if (netdevFamily < 0) {
                return NetdevFeatures.NONE;
            }
        }
        int len = begin(netdevFamily, NETDEV_CMD_DEV_GET, 1);
        byte[] idx = new byte[4];
        MemorySegment.ofArray(idx).set(JAVA_INT_UNALIGNED, 0, ifindex);
        len = putAttr(len, NETDEV_A_DEV_IFINDEX, idx);
        MemorySegment reply = transact(len, "NETDEV_CMD_DEV_GET ifindex " + ifindex);
        long xdp = u64(reply, NETDEV_A_DEV_XDP_FEATURES);
        long xsk = u64(reply, NETDEV_A_DEV_XSK_FEATURES);
        return new NetdevFeatures(xdp, xsk);
    }

    private static long u64(MemorySegment reply, int type) throws NetlinkProtocolException {
        NlAttrs attrs = NlAttrs.parse(reply, NlMsgHdr.SIZE + GENL_HDRLEN, (int) reply.byteSize(), 16);
        int n = attrs.length(type);
        if (n < 0) {
            return 0;
        }
        int at = attrOffset(reply, type);
        return n >= 8 ? reply.get(JAVA_LONG_UNALIGNED, at) : Integer.toUnsignedLong(reply.get(JAVA_INT_UNALIGNED, at));
    }

    /** Payload offset of the last attribute {@code type} in a genl reply (present: checked by the caller). */
    private static int attrOffset(MemorySegment msg, int type) {
        int pos = NlMsgHdr.SIZE + GENL_HDRLEN;
        int found = -1;
        int end = (int) msg.byteSize();
        while (end - pos >= NlAttrs.HEADER) {
            int len = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, pos));
            int t = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, pos + 2)) & 0x3fff;
            if (len < NlAttrs.HEADER) {
                break;
            }
            if (t == type) {
                found = pos + NlAttrs.HEADER;
            }
            pos += Rtnl.align(len);
        }
        return found;
    }

    private int begin(int family, int cmd, int version) {
        buf.fill((byte) 0);
        NlMsgHdr.write(buf, 0, 0, family, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK, ++seq, 0);
        buf.set(JAVA_BYTE, NlMsgHdr.SIZE, (byte) cmd);
        buf.set(JAVA_BYTE, NlMsgHdr.SIZE + 1, (byte) version);
        return NlMsgHdr.SIZE + GENL_HDRLEN;
    }

    private int putAttr(int len, int type, byte[] value) {
        buf.set(JAVA_SHORT_UNALIGNED, len, (short) (NlAttrs.HEADER + value.length));
        buf.set(JAVA_SHORT_UNALIGNED, len + 2, (short) type);
        MemorySegment.copy(value, 0, buf, JAVA_BYTE, len + NlAttrs.HEADER, value.length);
        return len + Rtnl.align(NlAttrs.HEADER + value.length);
    }

    /** Sends the request in {@link #buf} and returns a copy of its (single) reply message. */
    private MemorySegment transact(int len, String what) throws IOException {
        int mySeq = seq;
        NlMsgHdr.write(buf, 0, len, NlMsgHdr.type(buf, 0), NlMsgHdr.flags(buf, 0), mySeq, 0);
        long r = Syscalls.sendtoRaw(fd, buf, len, 0, kernel, SOCKADDR_NL_SIZE);
        if (r < 0) {
            throw new SyscallException("sendto(NETLINK_GENERIC " + what + ")", (int) -r);
        }
        MemorySegment reply = null;
        for (;;) {
            long n = Syscalls.recvfromRaw(fd, buf, BUFFER, 0, MemorySegment.NULL, MemorySegment.NULL);
            if (n < 0) {
                if (n == -Errno.EINTR) {
                    continue;
                }
                throw new SyscallException("recv(NETLINK_GENERIC " + what + ")", (int) -n);
            }
            for (int pos = 0; n - pos >= NlMsgHdr.SIZE; ) {
                int mlen = NlMsgHdr.len(buf, pos);
                if (mlen < NlMsgHdr.SIZE || mlen > n - pos) {
                    throw new NetlinkProtocolException(what + ": message of " + mlen + " bytes in a datagram of " + n);
                }
                if (NlMsgHdr.seq(buf, pos) == mySeq) {
                    int type = NlMsgHdr.type(buf, pos);
                    if (type == Rtnl.NLMSG_ERROR) {
                        int error = mlen >= NlMsgHdr.SIZE + 4 ? buf.get(JAVA_INT_UNALIGNED, pos + NlMsgHdr.SIZE) : 0;
                        if (error < 0) {
                            throw new NetlinkException(what, -error, null, null);
                        }
                        if (reply == null) {
                            throw new NetlinkProtocolException(what + ": acknowledged without a reply");
                        }
                        return reply; // the ACK after the reply
                    }
                    if (reply == null && type != Rtnl.NLMSG_DONE && type != Rtnl.NLMSG_NOOP) {
                        reply = arena.allocate(mlen, 8);
                        MemorySegment.copy(buf, pos, reply, 0, mlen);
                    }
                }
                pos += Rtnl.align(mlen);
            }
        }
    }

    @Override
    public void close() {
        Syscalls.close(fd);
        arena.close();
    }
}
