package org.nettyxdp.xsk;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.socket.CompletionRing;
import org.nettyxdp.socket.FillRing;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One RX/TX queue of an interface as this process uses it: a UMEM with its frame pool and an anchor
 * AF_XDP socket that registered the UMEM and owns the queue's fill and completion rings. Each channel
 * on the queue binds its own socket sharing the UMEM ({@code XDP_SHARED_UMEM}), so its RX and TX rings
 * are its own while frames come from, and return to, this one pool.
 */
final class XskQueue {
    private static final Map<Long, XskQueue> QUEUES = new HashMap<>();
    /**
     * The UMEM of a queue whose anchor found it busy, kept (unregistered) for the next attempt so a
     * retry does not map and populate the whole area again; see {@link #discardSpare}.
     */
    private static final Map<Long, Umem> SPARE = new HashMap<>();
    /** Ring size of the anchor socket's own RX/TX rings, which carry no traffic. */
    private static final int ANCHOR_RING = 8;
    /** Frame addresses moved between the pool and a ring per step. */
    private static final int BATCH = 256;

    private final long key;
    private final Umem umem;
    private final XdpSocket anchor;
    private final UmemFramePool pool;
    /** Guards the queue's fill and completion rings, which every channel on the queue shares. */
    private final ReentrantLock ringLock = new ReentrantLock();
    /** Under {@link #ringLock}: addresses in transit between the pool and a ring. */
    private final long[] addrs = new long[BATCH];
    private int users;
    /**
     * Frames RX refills leave free, so sends needing fresh frames (multi-buffer chains: a received
     * chain is not sent in place) are not starved by a kernel receiving at full rate: an eighth of the UMEM.
     */
    private final int txReserve;

    private XskQueue(long key, Umem umem, XdpSocket anchor, UmemFramePool pool) {
        this.key = key;
        this.umem = umem;
        this.anchor = anchor;
        this.pool = pool;
        this.txReserve = anchor.config().multiBuffer() ? pool.frameCount() / 8 : 0;
    }

    /**
     * The queue's shared state, created on first use; pair each call with {@link #release()}. Every
     * channel on a queue shares its UMEM, so all must ask for the same geometry.
     *
     * @throws BindBusyException the queue still has another socket (never waited for): try again later
     * @throws IOException if the queue already has a UMEM of another geometry, or the UMEM or its
     *         anchor socket cannot be set up
     */
    static XskQueue acquire(int ifindex, int queue, UmemConfig umemConfig, XdpSocketConfig socketConfig,
                            ByteBufAllocator alloc) throws IOException {
        long key = (long) ifindex << 32 | queue;
        synchronized (QUEUES) {
            XskQueue q = QUEUES.get(key);
            if (q == null) {
                q = create(key, ifindex, queue, umemConfig, socketConfig, alloc);
                QUEUES.put(key, q);
            } else if (!q.umem.config().equals(umemConfig)) {
                throw new IOException("queue " + queue + " of interface " + ifindex + " already has a UMEM of "
                        + describe(q.umem.config()) + ", shared by every channel on it; this channel asks for "
                        + describe(umemConfig) + ". Bind every channel on the interface with the same "
                        + "XdpChannelOption.UMEM_* settings");
            }
            q.users++;
            return q;
        }
    }

    private static String describe(UmemConfig c) {
        return c.frameCount() + " frames of " + c.frameSize() + " bytes (headroom " + c.headroom()
                + ", TX metadata " + c.txMetadataLen() + ")";
    }

    private static XskQueue create(long key, int ifindex, int queue, UmemConfig umemConfig,
                                   XdpSocketConfig socketConfig, ByteBufAllocator alloc) throws IOException {
        Umem umem = SPARE.remove(key);
        if (umem != null && !umem.config().equals(umemConfig)) {
            umem.close();
            umem = null;
        }
        if (umem == null) {
            umem = Umem.allocate(umemConfig);
        }
        try {
            XdpSocketConfig anchorConfig = socketConfig.withQueueId(queue)
                    .withRingSizes(ANCHOR_RING, ANCHOR_RING, socketConfig.fillSize(), socketConfig.completionSize());
            // never parks: a busy queue is the caller's to retry later (BindBusyException)
            XdpSocket anchor = openAnchor(anchorConfig, umem);
            UmemFramePool pool = new UmemFramePool(umem.region(), umemConfig.frameSize(), alloc);
            XskQueue q = new XskQueue(key, umem, anchor, pool);
            // half the frames wait in the fill ring; the rest serve TX and frames the application holds
            q.refill(Math.min(socketConfig.fillSize(), umem.frameCount() / 2));
            return q;
        } catch (BindBusyException e) {
            SPARE.put(key, umem);
            throw e;
        } catch (IOException | RuntimeException e) {
            umem.close();
            throw e;
        }
    }

    /**
     * Binds the queue's first socket, multi-buffer ({@code XDP_USE_SG}) when asked and the kernel takes
     * it: a kernel before 6.6 refuses the flag (EINVAL), and so does a zero-copy driver without
     * multi-buffer support (EOPNOTSUPP); then the socket binds without, and frames longer than a chunk
     * stay on the kernel path. Zero-copy {@link ZeroCopyMode#REQUIRED} that the kernel refuses fails
     * saying so.
     */
    private static XdpSocket openAnchor(XdpSocketConfig config, Umem umem) throws IOException {
        if (config.multiBuffer()) {
            try {
                return bindAnchor(config, umem);
            } catch (SyscallException e) {
                if (e.errno() != Errno.EINVAL && e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
                // a bind refused for SG left the UMEM registrable (XdpSocket's contract): try without
            }
        }
        return bindAnchor(config.withMultiBuffer(false), umem);
    }

    private static XdpSocket bindAnchor(XdpSocketConfig config, Umem umem) throws IOException {
        try {
            return XdpSocket.open(config, umem, 0);
        } catch (SyscallException e) {
            if (config.zeroCopy() == ZeroCopyMode.REQUIRED && !config.multiBuffer()
                    && (e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EINVAL)) {
                throw new IOException("XdpChannelOption.ZERO_COPY is REQUIRED but the kernel refuses zero-copy AF_XDP"
                        + " on queue " + config.queueId() + " of interface " + config.ifindex() + " ("
                        + Errno.name(e.errno()) + "): the driver has no AF_XDP zero-copy support, or XDP runs in"
                        + " generic (SKB) mode; use XdpZeroCopy.AUTO to accept copy mode", e);
            }
            throw e;
        }
    }

    /** True if the kernel bound the queue in zero-copy mode ({@code XDP_OPTIONS}). */
    boolean isZeroCopy() {
        return anchor.isZeroCopy();
    }

    /** True if the queue's sockets take multi-buffer frames ({@code XDP_USE_SG}). */
    boolean isMultiBuffer() {
        return anchor.config().multiBuffer();
    }

    /** True if the queue's sockets bound with {@code XDP_USE_NEED_WAKEUP}. */
    boolean needsWakeupFlag() {
        return anchor.config().needWakeup();
    }

    /** Unmaps the UMEM kept for queue {@code queue} of {@code ifindex} after a busy attempt, if any. */
    static void discardSpare(int ifindex, int queue) {
        Umem umem;
        synchronized (QUEUES) {
            umem = SPARE.remove((long) ifindex << 32 | queue);
        }
        if (umem != null) {
            try {
                umem.close();
            } catch (SyscallException ignored) {
                // unmapping cannot fail for a mapping we made
            }
        }
    }

    /** Binds a channel's socket on this queue, sharing the UMEM; a busy queue throws at once. */
    XdpSocket openSocket(XdpSocketConfig config) throws SyscallException {
        return XdpSocket.openShared(config.withZeroCopy(ZeroCopyMode.AUTO), anchor, 0);
    }

    UmemFramePool pool() {
        return pool;
    }

    /** Bytes per frame of the queue's UMEM (the first channel on the queue chose it). */
    int frameSize() {
        return umem.config().frameSize();
    }

    /** The UMEM region: frame addresses are offsets into it. */
    MemorySegment region() {
        return umem.region();
    }

    /** Puts up to {@code max} free frames on the queue's fill ring; returns how many. Any thread. */
    int refill(int max) {
        FillRing fill = anchor.fill();
        ringLock.lock();
        try {
            int slots = fill.reserve(max);
            int n = 0;
            while (n < slots) {
                int k = pool.takeForReceive(addrs, Math.min(BATCH, slots - n), txReserve);
                if (k == 0) {
                    break;
                }
                for (int i = 0; i < k; i++) {
                    fill.put(n + i, addrs[i]);
                }
                n += k;
            }
            fill.submit(n);
            return n;
        } finally {
            ringLock.unlock();
        }
    }

    /** True when the kernel wants a wakeup to take frames off the fill ring. */
    boolean fillNeedsWakeup() {
        return anchor.fill().needsWakeup();
    }

    /**
     * Returns the frames the kernel completed sending to the pool. Returns how many completions named
     * no frame being sent (ignored, never freed twice); 0 normally. Any thread.
     */
    int reapCompletions() {
        CompletionRing completion = anchor.completion();
        ringLock.lock();
        try {
            int invalid = 0;
            int n;
            while ((n = completion.peek(BATCH)) > 0) {
                for (int i = 0; i < n; i++) {
                    addrs[i] = completion.addr(i);
                }
                completion.release(n);
                invalid += pool.sent(addrs, n);
            }
            return invalid;
        } finally {
            ringLock.unlock();
        }
    }

    /**
     * Drops one user; the last one reaps the last completions, closes the anchor socket and closes the
     * pool, which unmaps the UMEM as soon as the application has released every buffer it still holds.
     */
    void release() {
        synchronized (QUEUES) {
            if (--users == 0) {
                QUEUES.remove(key);
                reapCompletions();
                anchor.close();
                pool.close(() -> {
                    try {
                        umem.close();
                    } catch (SyscallException ignored) {
                        // unmapping cannot fail for a mapping we made; nothing left to do
                    }
                });
            }
        }
    }
}
