package org.nettyxdp.xsk;

import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.socket.TxRing;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.XdpStatistics;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One channel's AF_XDP socket on one queue, sharing the queue's UMEM ({@link XskQueue}): its RX and TX
 * rings, the TX slots it reserved, and the fill and completion work every fast path does the same way.
 * Event-loop confined.
 */
final class QueueSocket {
    /** TX descriptors reserved per batch. */
    static final int TX_BATCH = 64;
    /**
     * {@code SOL_XDP} option {@code XDP_MAX_TX_SKB_BUDGET} (Linux 6.17+): how many descriptors one
     * copy-mode {@code sendto} sends (32 by default, at most the TX ring size).
     */
    private static final int SOL_XDP = 283;
    private static final int XDP_MAX_TX_SKB_BUDGET = 9;

    /** The interface queue the socket is bound to. */
    final int queueId;
    final XskQueue queue;
    final XdpSocket xsk;
    final UmemFramePool pool;
    int txReserved;
    int txUsed;
    /** Frames were published here and the TX ring was not yet seen empty after a reap. */
    boolean txOutstanding;
    /** Datagrams received from and queued on this queue (event-loop confined; read on the loop). */
    long rxPackets;
    long txPackets;

    private QueueSocket(int queueId, XskQueue queue, XdpSocket xsk) {
        this.queueId = queueId;
        this.queue = queue;
        this.xsk = xsk;
        this.pool = queue.pool();
    }

    /** The socket settings of a channel's sockets on {@code link} ({@code frags}: the program takes multi-buffer frames). */
    static XdpSocketConfig socketConfig(LinkInfo link, FastPathSettings settings, boolean frags) {
        UmemConfig umem = settings.umem();
        int ring = settings.ringSize();
        return new XdpSocketConfig(link.index(), 0, ring, ring,
                Math.max(ring, Math.min(umem.frameCount() / 2, 65536)), Math.max(ring, 2048),
                settings.zeroCopy(), true, frags);
    }

    /**
     * Joins queue {@code q} of {@code link} (its UMEM created on first use) and binds a socket on it.
     * A datagram channel's socket ({@code tuned}) also refuses a copy-mode queue when zero-copy is
     * {@link ZeroCopyMode#REQUIRED}, prefers busy polling when asked and sends whole rings per kick.
     * Gives back what it took when it fails.
     */
    static QueueSocket open(LinkInfo link, int q, FastPathSettings settings, XdpSocketConfig config, boolean tuned)
            throws IOException {
        XskQueue queue = XskQueue.acquire(link.index(), q, settings.umem(), config, settings.tunables().allocator());
        try {
            if (tuned && settings.zeroCopy() == ZeroCopyMode.REQUIRED && !queue.isZeroCopy()) {
                throw new IOException("XdpChannelOption.ZERO_COPY is REQUIRED but queue " + q + " of "
                        + link.name() + " is bound in copy mode (the kernel chose it for an earlier channel,"
                        + " or the driver has no zero-copy support); use XdpZeroCopy.AUTO to accept it");
            }
            XdpSocket xsk = queue.openSocket(config.withQueueId(q));
            try {
                if (tuned) {
                    if (settings.busyPollBudget() > 0) {
                        preferBusyPoll(xsk, settings.busyPollBudget());
                    }
                    raiseTxBudget(xsk, settings.ringSize());
                }
                return new QueueSocket(q, queue, xsk);
            } catch (IOException | RuntimeException e) {
                xsk.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            queue.release();
            throw e;
        }
    }

    /**
     * Lets one kick send a whole TX ring in copy mode instead of 32 frames, so a flush takes one
     * {@code sendto} instead of one per 32 datagrams. Older kernels do not know the option: they keep
     * their budget and {@link #kick} loops.
     */
    private static void raiseTxBudget(XdpSocket xsk, int ring) {
        try {
            Syscalls.setsockopt(xsk.fd(), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, ring, "XDP_MAX_TX_SKB_BUDGET");
        } catch (SyscallException e) {
            // ENOPROTOOPT before Linux 6.17: 32 descriptors per sendto
        }
    }

    private static void preferBusyPoll(XdpSocket xsk, int budget) throws SyscallException {
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL");
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_BUSY_POLL, 50, "SO_BUSY_POLL");
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_BUSY_POLL_BUDGET, budget, "SO_BUSY_POLL_BUDGET");
    }

    int fd() {
        return xsk.fd();
    }

    /** The UMEM region: frame addresses are offsets into it. */
    MemorySegment region() {
        return queue.region();
    }

    /** Tops the queue's fill ring up after an RX batch, waking the kernel if it asks for it. */
    void refill() {
        queue.refill(xsk.fill().size());
        if (xsk.fill().needsWakeup()) {
            xsk.wakeupRx();
        }
    }

    // ------------------------------------------------------------------------------------------ TX

    /**
     * Makes sure {@code k} consecutive TX slots are reserved, publishing what is queued first if
     * needed, and kicking and reaping once when the ring is full.
     */
    boolean reserveTxSlots(int k, FastPathCounters counters) {
        if (txReserved - txUsed >= k) {
            return true;
        }
        TxRing tx = xsk.tx();
        if (txUsed > 0) {
            publish();
        }
        txReserved = tx.reserve(TX_BATCH);
        if (txReserved < k) {
            kick(counters);
            reap(counters);
            txReserved = tx.reserve(TX_BATCH);
        }
        return txReserved >= k;
    }

    /** {@link #reserveTxSlots} of one slot. */
    boolean reserveTxSlot(FastPathCounters counters) {
        return txUsed < txReserved || reserveTxSlots(1, counters);
    }

    /** Publishes the queued descriptors to the kernel (not yet kicked). */
    void publish() {
        xsk.tx().submit(txUsed);
        txUsed = 0;
        txReserved = 0;
        txOutstanding = true;
    }

    /** Publishes what is queued, if anything, and kicks the kernel to send it. */
    void publishAndKick(FastPathCounters counters) {
        if (txUsed > 0) {
            publish();
            kick(counters);
        }
    }

    /**
     * Kicks until the kernel has taken everything off the TX ring: in copy mode each kick sends a
     * bounded batch (about 32 frames) synchronously.
     */
    void kick(FastPathCounters counters) {
        TxRing tx = xsk.tx();
        int pending = tx.entries();
        for (int attempts = pending / 16 + 2; pending > 0 && attempts > 0; attempts--) {
            int r = xsk.kickTx();
            if (r < 0 && r != -Errno.EAGAIN) {
                counters.txKickErrors++;
                break;
            }
            pending = tx.entries();
        }
    }

    /** Takes completed sends back into the pool, counting completions naming no frame of ours. */
    void reap(FastPathCounters counters) {
        int invalid = queue.reapCompletions();
        if (invalid > 0) {
            counters.drop(DropReason.INVALID_DESCRIPTOR, invalid);
        }
        if (xsk.tx().entries() == 0) {
            txOutstanding = false;
        }
    }

    // ------------------------------------------------------------------------------------- lifecycle

    /** Closes the socket and leaves the queue (the last channel on it frees the UMEM). */
    void close() {
        try {
            xsk.close();
        } finally {
            queue.release();
        }
    }

    /** Kernel counters summed over {@code queues}' sockets. */
    static XdpStatistics statistics(QueueSocket[] queues) {
        XdpStatistics sum = XdpStatistics.ZERO;
        for (QueueSocket qs : queues) {
            try {
                sum = sum.plus(qs.xsk.statistics());
            } catch (SyscallException ignored) {
                // a closed socket has no counters left to add
            }
        }
        return sum;
    }

    /** Where the frames of each of {@code queues}' UMEMs are. */
    static FrameAccounting[] accounting(QueueSocket[] queues) {
        FrameAccounting[] a = new FrameAccounting[queues.length];
        for (int i = 0; i < queues.length; i++) {
            a[i] = queues[i].pool.accounting();
        }
        return a;
    }

    /** Index of the socket in {@code queues} whose descriptor is {@code fd}, or -1. */
    static int indexOf(QueueSocket[] queues, int fd) {
        for (int i = 0; i < queues.length; i++) {
            if (queues[i].xsk.fd() == fd) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The socket of {@code queues} whose UMEM holds {@code buf} if the pool lets it be sent in place
     * (held until the kernel completes the send; see {@link UmemFramePool#holdForSend}), else null: not
     * ours, or already queued (the same buffer written twice is sent as a copy).
     */
    static QueueSocket holdForSend(QueueSocket[] queues, UmemByteBuf buf) {
        for (QueueSocket candidate : queues) {
            if (candidate.pool.owns(buf)) {
                return candidate.pool.holdForSend(buf) ? candidate : null;
            }
        }
        return null;
    }

    /** True if {@code buf} is a frame of one of {@code queues}' UMEMs. */
    static boolean owns(QueueSocket[] queues, UmemByteBuf buf) {
        for (QueueSocket qs : queues) {
            if (qs.pool.owns(buf)) {
                return true;
            }
        }
        return false;
    }
}
