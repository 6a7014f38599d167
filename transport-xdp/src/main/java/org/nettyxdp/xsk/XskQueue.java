package org.nettyxdp.xsk;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.SyscallException;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

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

    private final long key;
    private final Umem umem;
    private final XdpSocket anchor;
    private final UmemFramePool pool;
    private int users;

    private XskQueue(long key, Umem umem, XdpSocket anchor, UmemFramePool pool) {
        this.key = key;
        this.umem = umem;
        this.anchor = anchor;
        this.pool = pool;
    }

    /**
     * The queue's shared state, created on first use; pair each call with {@link #release()}.
     *
     * @throws BindBusyException the queue still has another socket (never waited for): try again later
     */
    static XskQueue acquire(int ifindex, int queue, UmemConfig umemConfig, XdpSocketConfig socketConfig,
                            ByteBufAllocator alloc) throws IOException {
        long key = (long) ifindex << 32 | queue;
        synchronized (QUEUES) {
            XskQueue q = QUEUES.get(key);
            if (q == null) {
                q = create(key, ifindex, queue, umemConfig, socketConfig, alloc);
                QUEUES.put(key, q);
            }
            q.users++;
            return q;
        }
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
            XdpSocket anchor = XdpSocket.open(anchorConfig, umem, 0);
            UmemFramePool pool = new UmemFramePool(umem, alloc);
            pool.lock().lock();
            try {
                // half the frames wait in the fill ring; the rest serve TX and frames the application holds
                pool.refill(anchor.fill(), Math.min(socketConfig.fillSize(), umem.frameCount() / 2));
            } finally {
                pool.lock().unlock();
            }
            return new XskQueue(key, umem, anchor, pool);
        } catch (BindBusyException e) {
            SPARE.put(key, umem);
            throw e;
        } catch (IOException | RuntimeException e) {
            umem.close();
            throw e;
        }
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

    XdpSocket anchor() {
        return anchor;
    }

    /**
     * Drops one user; the last one closes the anchor socket and unmaps the UMEM, as soon as the
     * application has released every buffer it still holds.
     */
    void release() {
        synchronized (QUEUES) {
            if (--users == 0) {
                QUEUES.remove(key);
                anchor.close();
                pool.whenDrained(() -> {
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
