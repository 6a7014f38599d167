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
 *
 * <p>A queue whose previous socket was closed moments ago refuses {@code bind} with {@code EBUSY}
 * until the kernel's deferred release has run. {@link #open(XdpSocketConfig, Umem)} and
 * {@link #openShared(XdpSocketConfig, XdpSocket)} retry for at most {@link #DEFAULT_BUSY_WAIT_NANOS};
 * the overloads taking {@code busyWaitNanos} bound it as the caller likes (0: a single attempt, the
 * calling thread never parks). Either way a queue that stays busy ends in a {@link BindBusyException}
 * with everything opened so far closed again, so the caller can retry the open later.
 */
public final class XdpSocket implements AutoCloseable {
    /**
     * How long {@link #open(XdpSocketConfig, Umem)} and {@link #openShared(XdpSocketConfig, XdpSocket)}
     * retry a {@code bind} refused with {@code EBUSY}: 100 ms. The kernel frees a closed socket's queue
     * asynchronously, after {@code close} has returned; measured from the first {@code bind} on a
     * 2-vCPU VM under load (30 rebinds): median 10 ms, worst 76 ms. A caller on an event loop should
     * rather pass 0 and retry later on {@link BindBusyException}.
     */
    public static final long DEFAULT_BUSY_WAIT_NANOS = 100_000_000L;
    /** Pause between two {@code bind} attempts on a busy queue, within one open. */
    private static final long BUSY_PAUSE_NANOS = 1_000_000L;
    /** Delay suggested to a caller retrying a whole open later: one open costs milliseconds itself. */
    private static final long BUSY_RETRY_LATER_NANOS = 10_000_000L;

    private static final long SA_FAMILY = XdpStructs.offset(XdpStructs.SOCKADDR_XDP, "sxdp_family");
    private static final long SA_FLAGS = XdpStructs.offset(XdpStructs.SOCKADDR_XDP, "sxdp_flags");
    private static final long SA_IFINDEX = XdpStructs.offset(XdpStructs.SOCKADDR_XDP, "sxdp_ifindex");
    private static final long SA_QUEUE_ID = XdpStructs.offset(XdpStructs.SOCKADDR_XDP, "sxdp_queue_id");
    private static final long SA_SHARED_UMEM_FD = XdpStructs.offset(XdpStructs.SOCKADDR_XDP, "sxdp_shared_umem_fd");
    private static final long OPTIONS_FLAGS = XdpStructs.offset(XdpStructs.OPTIONS, "flags");

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

    /**
     * Opens a socket that registers {@code umem} (which no socket may have registered yet), retrying a
     * busy queue for at most {@link #DEFAULT_BUSY_WAIT_NANOS}.
     *
     * @throws BindBusyException if the queue stayed busy
     */
    public static XdpSocket open(XdpSocketConfig config, Umem umem) throws SyscallException {
        return open(config, umem, null, DEFAULT_BUSY_WAIT_NANOS);
    }

    /**
     * As {@link #open(XdpSocketConfig, Umem)}, retrying a busy queue for at most {@code busyWaitNanos}
     * (0: one attempt, no parking).
     *
     * @throws BindBusyException if the queue stayed busy; {@code umem} may be given to the next attempt
     */
    public static XdpSocket open(XdpSocketConfig config, Umem umem, long busyWaitNanos) throws SyscallException {
        return open(config, umem, null, busyWaitNanos);
    }

    /**
     * Opens a socket sharing {@code primary}'s UMEM ({@code XDP_SHARED_UMEM}). On the same interface
     * and queue as {@code primary} it also shares its fill and completion rings; elsewhere it gets its own.
     */
    public static XdpSocket openShared(XdpSocketConfig config, XdpSocket primary) throws SyscallException {
        return open(config, primary.umem, primary, DEFAULT_BUSY_WAIT_NANOS);
    }

    /**
     * As {@link #openShared(XdpSocketConfig, XdpSocket)}, retrying a busy queue for at most
     * {@code busyWaitNanos} (0: one attempt, no parking).
     *
     * @throws BindBusyException if the queue stayed busy
     */
    public static XdpSocket openShared(XdpSocketConfig config, XdpSocket primary, long busyWaitNanos)
            throws SyscallException {
        return open(config, primary.umem, primary, busyWaitNanos);
    }

    private static XdpSocket open(XdpSocketConfig config, Umem umem, XdpSocket primary, long busyWaitNanos)
            throws SyscallException {
        if (busyWaitNanos < 0) {
            throw new IllegalArgumentException("busyWaitNanos must be >= 0: " + busyWaitNanos);
        }
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
                MemorySegment off = arena.allocate(XdpStructs.MMAP_OFFSETS);
                Syscalls.getsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_MMAP_OFFSETS, off, "XDP_MMAP_OFFSETS");
                RingOffsets ro = RingOffsets.read(off, "rx");
                MemorySegment m = mapRing(fd, ro, config.rxSize(), XdpStructs.DESC_SIZE, XdpConstants.XDP_PGOFF_RX_RING,
                        "RX ring");
                maps[mapped++] = m;
                rx = new RxRing(m, config.rxSize(), ro);
                ro = RingOffsets.read(off, "tx");
                m = mapRing(fd, ro, config.txSize(), XdpStructs.DESC_SIZE, XdpConstants.XDP_PGOFF_TX_RING, "TX ring");
                maps[mapped++] = m;
                tx = new TxRing(m, config.txSize(), ro);
                if (sameQueue) {
                    fill = primary.fill;
                    completion = primary.completion;
                } else {
                    ro = RingOffsets.read(off, "fr");
                    m = mapRing(fd, ro, config.fillSize(), XdpStructs.ADDR_SIZE, XdpConstants.XDP_UMEM_PGOFF_FILL_RING,
                            "fill ring");
                    maps[mapped++] = m;
                    fill = new FillRing(m, config.fillSize(), ro);
                    ro = RingOffsets.read(off, "cr");
                    m = mapRing(fd, ro, config.completionSize(), XdpStructs.ADDR_SIZE,
                            XdpConstants.XDP_UMEM_PGOFF_COMPLETION_RING, "completion ring");
                    maps[mapped++] = m;
                    completion = new CompletionRing(m, config.completionSize(), ro);
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
            bind(fd, flags, config, primary == null ? 0 : primary.fd, busyWaitNanos);
            boolean zc = (options(fd) & XdpConstants.XDP_OPTIONS_ZEROCOPY) != 0;
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
            umem.unregister(fd);
            throw e;
        }
    }

    private static MemorySegment mapRing(int fd, RingOffsets offsets, int size, long entrySize, long pgoff,
                                         String what) throws SyscallException {
        return Syscalls.mmap(offsets.mappingLength(size, entrySize), Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_SHARED | Linux.MAP_POPULATE, fd, pgoff, what);
    }

    private static void bind(int fd, int flags, XdpSocketConfig config, int sharedFd, long busyWaitNanos)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(XdpStructs.SOCKADDR_XDP);
            sa.set(JAVA_SHORT, SA_FAMILY, (short) Linux.AF_XDP);
            sa.set(JAVA_SHORT, SA_FLAGS, (short) flags);
            sa.set(JAVA_INT, SA_IFINDEX, config.ifindex());
            sa.set(JAVA_INT, SA_QUEUE_ID, config.queueId());
            sa.set(JAVA_INT, SA_SHARED_UMEM_FD, sharedFd);
            String what = "AF_XDP ifindex " + config.ifindex() + " queue " + config.queueId();
            long start = System.nanoTime();
            while (true) {
                try {
                    Syscalls.bind(fd, sa, (int) sa.byteSize(), what);
                    return;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EBUSY) {
                        throw e;
                    }
                    // a queue whose previous socket was just closed stays busy until the kernel's
                    // deferred release has run; wait for it only as long as the caller allows
                    long waited = System.nanoTime() - start;
                    if (waited + BUSY_PAUSE_NANOS > busyWaitNanos) {
                        throw new BindBusyException(e.call(), BUSY_RETRY_LATER_NANOS);
                    }
                    LockSupport.parkNanos(BUSY_PAUSE_NANOS);
                }
            }
        }
    }

    private static int options(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment o = arena.allocate(XdpStructs.OPTIONS);
            Syscalls.getsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_OPTIONS, o, "XDP_OPTIONS");
            return o.get(JAVA_INT, OPTIONS_FLAGS);
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

    /** Reads the kernel's counters for this socket; fields an older kernel does not write read as 0. */
    public XdpStatistics statistics() throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(XdpStructs.STATISTICS);
            int len = Syscalls.getsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_STATISTICS, s, "XDP_STATISTICS");
            return new XdpStatistics(stat(s, len, "rx_dropped"), stat(s, len, "rx_invalid_descs"),
                    stat(s, len, "tx_invalid_descs"), stat(s, len, "rx_ring_full"),
                    stat(s, len, "rx_fill_ring_empty_descs"), stat(s, len, "tx_ring_empty_descs"));
        }
    }

    private static long stat(MemorySegment stats, int len, String field) {
        long offset = XdpStructs.offset(XdpStructs.STATISTICS, field);
        return offset + JAVA_LONG.byteSize() <= len ? stats.get(JAVA_LONG, offset) : 0;
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
