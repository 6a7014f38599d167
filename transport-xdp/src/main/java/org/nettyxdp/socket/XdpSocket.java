package org.nettyxdp.socket;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An AF_XDP socket bound to one queue of one interface, with its RX and TX rings, and the fill and
 * completion rings of its UMEM (its own, or those of the socket it shares the UMEM with on the same
 * queue).
 *
 * <pre>{@code
 * Umem umem = Umem.allocate(UmemConfig.DEFAULT);
 * XdpSocket xsk = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem);
 * }</pre>
 *
 * <p>Not thread-safe: a socket belongs to one thread. {@link #close()} unmaps the rings before
 * closing the descriptor (a mapped ring keeps the socket, and so the queue, alive).
 */
public final class XdpSocket implements AutoCloseable {
    /** Frames from one {@code bind} that was refused with EBUSY are retried for this long. */
    private static final long BIND_RETRY_NANOS = 2_000_000_000L;
    private static final int OFFSETS_SIZE = (int) XdpStructs.MMAP_OFFSETS.byteSize();

    private final XdpSocketConfig config;
    private final Umem umem;
    private final int fd;
    private final RxRing rx;
    private final TxRing tx;
    private final FillRing fill;
    private final CompletionRing completion;
    private final MemorySegment[] ownMappings;
    private final boolean zeroCopy;
    private boolean closed;

    private XdpSocket(XdpSocketConfig config, Umem umem, int fd, RxRing rx, TxRing tx, FillRing fill,
                      CompletionRing completion, MemorySegment[] ownMappings, boolean zeroCopy) {
        this.config = config;
        this.umem = umem;
        this.fd = fd;
        this.rx = rx;
        this.tx = tx;
        this.fill = fill;
        this.completion = completion;
        this.ownMappings = ownMappings;
        this.zeroCopy = zeroCopy;
    }

    /** Opens a socket that registers {@code umem} (which no socket may have registered yet). */
    public static XdpSocket open(XdpSocketConfig config, Umem umem) throws SyscallException {
        return open(config, umem, null);
    }

    /**
     * Opens a socket sharing {@code primary}'s UMEM ({@code XDP_SHARED_UMEM}). On the same interface
     * and queue as {@code primary} it also shares its fill and completion rings; elsewhere it gets its own.
     */
    public static XdpSocket openShared(XdpSocketConfig config, XdpSocket primary) throws SyscallException {
        return open(config, primary.umem, primary);
    }

    private static XdpSocket open(XdpSocketConfig config, Umem umem, XdpSocket primary) throws SyscallException {
        int fd = Syscalls.socket(Linux.AF_XDP, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
        MemorySegment[] maps = new MemorySegment[4];
        int mapped = 0;
        try {
            boolean sameQueue = primary != null && primary.config.ifindex() == config.ifindex()
                    && primary.config.queueId() == config.queueId();
            if (primary == null) {
                umem.register(fd);
            }
            if (!sameQueue) {
                Syscalls.setsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_UMEM_FILL_RING, config.fillSize(), "XDP_UMEM_FILL_RING");
                Syscalls.setsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_UMEM_COMPLETION_RING, config.completionSize(),
                        "XDP_UMEM_COMPLETION_RING");
            }
            Syscalls.setsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_RX_RING, config.rxSize(), "XDP_RX_RING");
            Syscalls.setsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_TX_RING, config.txSize(), "XDP_TX_RING");

            RxRing rx;
            TxRing tx;
            FillRing fill;
            CompletionRing completion;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment off = arena.allocate(OFFSETS_SIZE, 8);
                Syscalls.getsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_MMAP_OFFSETS, off, "XDP_MMAP_OFFSETS");
                MemorySegment m = mapRing(fd, off, 0, config.rxSize(), 16, XdpConstants.XDP_PGOFF_RX_RING, "RX ring");
                maps[mapped++] = m;
                rx = new RxRing(m, config.rxSize(), off.get(JAVA_LONG, 0), off.get(JAVA_LONG, 8),
                        off.get(JAVA_LONG, 24), off.get(JAVA_LONG, 16));
                m = mapRing(fd, off, 32, config.txSize(), 16, XdpConstants.XDP_PGOFF_TX_RING, "TX ring");
                maps[mapped++] = m;
                tx = new TxRing(m, config.txSize(), off.get(JAVA_LONG, 32), off.get(JAVA_LONG, 40),
                        off.get(JAVA_LONG, 56), off.get(JAVA_LONG, 48));
                if (sameQueue) {
                    fill = primary.fill;
                    completion = primary.completion;
                } else {
                    m = mapRing(fd, off, 64, config.fillSize(), 8, XdpConstants.XDP_UMEM_PGOFF_FILL_RING, "fill ring");
                    maps[mapped++] = m;
                    fill = new FillRing(m, config.fillSize(), off.get(JAVA_LONG, 64), off.get(JAVA_LONG, 72),
                            off.get(JAVA_LONG, 88), off.get(JAVA_LONG, 80));
                    m = mapRing(fd, off, 96, config.completionSize(), 8, XdpConstants.XDP_UMEM_PGOFF_COMPLETION_RING,
                            "completion ring");
                    maps[mapped++] = m;
                    completion = new CompletionRing(m, config.completionSize(), off.get(JAVA_LONG, 96),
                            off.get(JAVA_LONG, 104), off.get(JAVA_LONG, 120), off.get(JAVA_LONG, 112));
                }
            }

            int flags = config.zeroCopy().bindFlags();
            if (config.needWakeup()) {
                flags |= XdpConstants.XDP_USE_NEED_WAKEUP;
            }
            if (config.multiBuffer()) {
                flags |= XdpConstants.XDP_USE_SG;
            }
            if (primary != null) {
                flags |= XdpConstants.XDP_SHARED_UMEM;
                // the kernel refuses these with EINVAL: a sharing socket inherits them from the primary
                flags &= ~(XdpConstants.XDP_COPY | XdpConstants.XDP_ZEROCOPY | XdpConstants.XDP_USE_NEED_WAKEUP | XdpConstants.XDP_USE_SG);
            }
            bind(fd, flags, config, primary == null ? 0 : primary.fd);
            boolean zc = (Syscalls.getsockoptInt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_OPTIONS, "XDP_OPTIONS")
                    & XdpConstants.XDP_OPTIONS_ZEROCOPY) != 0;
            MemorySegment[] own = new MemorySegment[mapped];
            System.arraycopy(maps, 0, own, 0, mapped);
            return new XdpSocket(config, umem, fd, rx, tx, fill, completion, own, zc);
        } catch (SyscallException | RuntimeException e) {
            for (int i = 0; i < mapped; i++) {
                try {
                    Syscalls.munmap(maps[i]);
                } catch (SyscallException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            Syscalls.close(fd);
            throw e;
        }
    }

    private static MemorySegment mapRing(int fd, MemorySegment offsets, long base, int size, int entrySize,
                                         long pgoff, String what) throws SyscallException {
        long length = offsets.get(JAVA_LONG, base + 16) + (long) size * entrySize;
        return Syscalls.mmap(length, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED | Linux.MAP_POPULATE,
                fd, pgoff, what);
    }

    private static void bind(int fd, int flags, XdpSocketConfig config, int sharedFd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(XdpStructs.SOCKADDR_XDP);
            sa.set(JAVA_SHORT, 0, (short) Linux.AF_XDP);
            sa.set(JAVA_SHORT, 2, (short) flags);
            sa.set(JAVA_INT, 4, config.ifindex());
            sa.set(JAVA_INT, 8, config.queueId());
            sa.set(JAVA_INT, 12, sharedFd);
            String what = "AF_XDP ifindex " + config.ifindex() + " queue " + config.queueId();
            long deadline = System.nanoTime() + BIND_RETRY_NANOS;
            while (true) {
                try {
                    Syscalls.bind(fd, sa, (int) sa.byteSize(), what);
                    return;
                } catch (SyscallException e) {
                    // a queue whose previous socket was just closed stays busy until the kernel's
                    // deferred release has run (tens of milliseconds here)
                    if (e.errno() != Errno.EBUSY || System.nanoTime() > deadline) {
                        throw e;
                    }
                    LockSupport.parkNanos(5_000_000L);
                }
            }
        }
    }

    /** The socket's file descriptor (for epoll and the XSKMAP). */
    public int fd() {
        return fd;
    }

    public XdpSocketConfig config() {
        return config;
    }

    public Umem umem() {
        return umem;
    }

    public RxRing rx() {
        return rx;
    }

    public TxRing tx() {
        return tx;
    }

    public FillRing fill() {
        return fill;
    }

    public CompletionRing completion() {
        return completion;
    }

    /** True if the kernel bound this socket in zero-copy mode ({@code XDP_OPTIONS}). */
    public boolean isZeroCopy() {
        return zeroCopy;
    }

    /**
     * Asks the kernel to send what the TX ring holds. In copy mode one kick sends a bounded batch and
     * reports EAGAIN/EBUSY/ENOBUFS while more is queued: those mean "kick again later", not failure.
     *
     * @return 0, or {@code -errno} for a real failure (e.g. ENETDOWN, ENXIO)
     */
    public int kickTx() {
        long r = Syscalls.sendtoRaw(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT, MemorySegment.NULL, 0);
        if (r >= 0) {
            return 0;
        }
        int errno = (int) -r;
        return errno == Errno.EAGAIN || errno == Errno.EBUSY || errno == Errno.ENOBUFS || errno == Errno.EINTR
                ? 0 : (int) r;
    }

    /** Wakes the kernel's RX processing when the fill ring asks for it (need-wakeup mode). */
    public void wakeupRx() {
        Syscalls.recvfromRaw(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT, MemorySegment.NULL, MemorySegment.NULL);
    }

    /** Reads the kernel's counters for this socket. */
    public XdpStatistics statistics() throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(XdpStructs.STATISTICS);
            int len = Syscalls.getsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_STATISTICS, s, "XDP_STATISTICS");
            return new XdpStatistics(s.get(JAVA_LONG, 0), s.get(JAVA_LONG, 8), s.get(JAVA_LONG, 16),
                    len >= 32 ? s.get(JAVA_LONG, 24) : 0, len >= 40 ? s.get(JAVA_LONG, 32) : 0,
                    len >= 48 ? s.get(JAVA_LONG, 40) : 0);
        }
    }

    /** Unmaps this socket's own rings, then closes it. Idempotent. The UMEM stays. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemorySegment m : ownMappings) {
            try {
                Syscalls.munmap(m);
            } catch (SyscallException ignored) {
                // nothing useful to do: the mapping is gone with the process at the latest
            }
        }
        Syscalls.close(fd);
    }

    public boolean isClosed() {
        return closed;
    }
}
