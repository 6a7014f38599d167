package org.nettyxdp.netlink;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

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
 * The request/reply transport under {@link RtNetlink}: one {@code NETLINK_ROUTE} socket, a request
 * buffer the queries fill ({@link #begin}, {@link #putAttr}), and the exchange that sends it and reads
 * the kernel's answer ({@link #single} for one message, {@link #dump} for a multi-part dump, retried
 * while the kernel flags it interrupted). Kernel errors become {@link NetlinkException}, malformed or
 * truncated replies {@link NetlinkProtocolException}; a reply that takes more than 5 seconds fails with
 * {@code EAGAIN}.
 *
 * <p>Not thread-safe: {@link RtNetlink} serializes its calls.
 */
final class RtnlSocket implements AutoCloseable {
    private static final int REQUEST_BUFFER = 512;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int RECEIVE_TIMEOUT_SECONDS = 5;
    private static final int DUMP_ATTEMPTS = 10;

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

    /** Opens and binds a socket in the calling thread's network namespace. */
    RtnlSocket(int receiveBufferSize) throws SyscallException {
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

    /** The netlink port id the kernel assigned to this socket. */
    int portId() {
        return portId;
    }

    /** Closes the socket; later requests fail with {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
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

    /** Starts a request: a zeroed header of {@code type} and a zeroed family struct of {@code structSize}. */
    void begin(int type, int flags, int structSize) {
        tx.fill((byte) 0);
        txLen = NlMsgHdr.SIZE + structSize;
        NlMsgHdr.write(tx, 0, 0, type, Rtnl.NLM_F_REQUEST | flags, 0, 0);
    }

    /** Sets a byte of the request's family struct, {@code offset} bytes after the netlink header. */
    void putByte(long offset, int value) {
        tx.set(JAVA_BYTE, NlMsgHdr.SIZE + offset, (byte) value);
    }

    /** Sets a 32-bit field of the request's family struct, {@code offset} bytes after the netlink header. */
    void putInt(long offset, int value) {
        tx.set(JAVA_INT_UNALIGNED, NlMsgHdr.SIZE + offset, value);
    }

    /** Appends attribute {@code type} with {@code value}. */
    void putAttr(int type, byte[] value) {
        int len = NlAttrs.HEADER + value.length;
        if (txLen + Rtnl.align(len) > REQUEST_BUFFER) {
            throw new IllegalStateException("netlink request exceeds " + REQUEST_BUFFER + " bytes");
        }
        tx.set(JAVA_SHORT_UNALIGNED, txLen, (short) len);
        tx.set(JAVA_SHORT_UNALIGNED, txLen + 2, (short) type);
        MemorySegment.copy(value, 0, tx, JAVA_BYTE, txLen + NlAttrs.HEADER, value.length);
        txLen += Rtnl.align(len);
    }

    /** Appends a 32-bit attribute. */
    void putAttrU32(int type, int value) {
        putAttr(type, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
    }

    /** Writes the request into the buffer ({@link #begin} first). */
    interface RequestWriter {
        void write();
    }

    /** Decodes the one reply message. */
    interface Decoder<T> {
        T decode(MemorySegment msg) throws NetlinkProtocolException;
    }

    /** Adds what a dump message holds to {@code out}. */
    interface Collector<T> {
        void accept(MemorySegment msg, List<T> out) throws NetlinkProtocolException;
    }

    private interface Handler {
        void accept(MemorySegment msg) throws NetlinkProtocolException;
    }

    /** A request answered by exactly one message. */
    <T> T single(String call, String what, RequestWriter writer, int replyType, Decoder<T> decoder)
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
    <T> List<T> dump(String call, String what, RequestWriter writer, int replyType, Collector<T> collector)
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
