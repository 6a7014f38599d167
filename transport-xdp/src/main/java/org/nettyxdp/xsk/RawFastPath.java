package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import org.nettyxdp.bpf.FrameMatch;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.RxRing;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.XdpStatistics;

import java.io.IOException;

/**
 * The AF_XDP side of one raw channel: a socket on each chosen RX queue of the interface, sharing the
 * queue's UMEM with every other channel there, and the channel's filter in the interface's raw filter
 * program. Received frames are handed on whole (index 0 = the Ethernet header) as {@link UmemByteBuf}s
 * over their frame; sent frames are queued as they are, in place when they already are frames of the
 * queue's UMEM, else copied into a free one. Event-loop confined, except where noted.
 */
public final class RawFastPath {
    /** Receives the frames {@link #receive} produces. */
    public interface FrameSink {
        /** One frame; the sink owns it. Returns false to stop the batch. */
        boolean frame(ByteBuf frame);
    }

    /** Outcome of {@link #send}. */
    public enum SendResult {
        /** Queued on a TX ring; sent at the next {@link #flush()}. */
        QUEUED,
        /** No TX slot or free frame now: retry after the kernel completes sends. */
        NO_ROOM
    }

    private final XdpInterface iface;
    private final int slot;
    private final QueueSocket[] queues;
    private final FastPathSettings.Tunables tunables;
    private final FastPathCounters counters = new FastPathCounters();
    private final int frameCapacity;
    private final int maxFrameLength;
    private final int frameSize;
    private final long[] oneFrame = new long[1];
    private long txPackets;
    private long txBytes;
    private long txZeroCopy;
    private boolean closed;
    private int busy;
    private boolean released;

    private RawFastPath(XdpInterface iface, int slot, QueueSocket[] queues, FastPathSettings settings) {
        this.iface = iface;
        this.slot = slot;
        this.queues = queues;
        this.tunables = settings.tunables();
        this.frameSize = settings.umem().frameSize();
        this.frameCapacity = frameSize - XdpPacket.XDP_PACKET_HEADROOM;
        LinkInfo link = iface.link();
        // the MTU plus an Ethernet header with one VLAN tag; loopback takes what fits a frame
        this.maxFrameLength = link.isLoopback() ? frameCapacity : Math.min(frameCapacity, link.mtu() + EthHdr.TAGGED_LEN);
    }

    /**
     * Binds a socket on each queue of {@code queueIds} (null: every RX queue of {@code link}) and
     * starts steering the frames {@code match} takes there.
     *
     * @param txOffloads {@code XdpPacket.TX_OFFLOAD_*} flags the device advertises; granted to packet
     *                   views only where the queue's UMEM has a TX metadata area
     */
    public static RawFastPath open(LinkInfo link, int[] queueIds, FrameMatch match, FastPathSettings settings,
                                   int txOffloads) throws IOException {
        XdpInterface iface = XdpInterface.acquire(link, settings.attachMode());
        int n = iface.queues();
        int[] ids = queueIds == null ? java.util.stream.IntStream.range(0, n).toArray() : queueIds.clone();
        long mask = 0;
        for (int q : ids) {
            if (q < 0 || q >= n || q >= 64) {
                iface.release();
                throw new IOException("queue " + q + " is not an RX queue of " + link.name() + " (it has " + n + ")");
            }
            if ((mask & 1L << q) != 0) {
                iface.release();
                throw new IOException("queue " + q + " named twice");
            }
            mask |= 1L << q;
        }
        if (ids.length == 0) {
            iface.release();
            throw new IOException("no queue to bind to on " + link.name());
        }
        int slot = -1;
        QueueSocket[] queues = new QueueSocket[ids.length];
        try {
            slot = iface.allocateRawSlot();
            XdpSocketConfig socketConfig = QueueSocket.socketConfig(link, settings, false);
            for (int i = 0; i < ids.length; i++) {
                int q = ids[i];
                queues[i] = QueueSocket.open(link, q, settings, socketConfig, false);
                if (settings.umem().txMetadataLen() >= XdpPacket.TX_METADATA_LEN) {
                    queues[i].pool.setTxOffloads(txOffloads);
                }
                iface.setRawSocket(slot, q, queues[i].fd());
            }
            iface.addRawFilter(slot, match, mask);
            return new RawFastPath(iface, slot, queues, settings);
        } catch (IOException | RuntimeException e) {
            if (slot >= 0) {
                iface.removeRawChannel(slot);
            }
            for (QueueSocket qs : queues) {
                if (qs != null) {
                    qs.close();
                }
            }
            iface.release();
            throw e;
        }
    }

    public int queueCount() {
        return queues.length;
    }

    public int socketFd(int i) {
        return queues[i].fd();
    }

    /** The interface queue the channel's {@code i}-th socket is bound to. */
    public int queueId(int i) {
        return queues[i].queueId;
    }

    /** Index of the socket whose descriptor is {@code fd}, or -1. */
    public int queueOf(int fd) {
        return QueueSocket.indexOf(queues, fd);
    }

    public LinkInfo link() {
        return iface.link();
    }

    /** The longest frame {@link #send} takes: the MTU plus a tagged Ethernet header, within a frame. */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    // ------------------------------------------------------------------------------------------ RX

    /** Takes up to {@code max} frames from socket {@code i}'s RX ring to {@code sink}; returns how many. */
    public int receive(int i, int max, FrameSink sink) {
        if (closed) {
            return 0;
        }
        QueueSocket qs = queues[i];
        RxRing rx = qs.xsk.rx();
        UmemFramePool pool = qs.pool;
        int n = rx.peek(max);
        if (n == 0) {
            return 0;
        }
        int copyThreshold = (int) (pool.frameCount() * tunables.copyFallbackThreshold());
        long packets = 0;
        long bytes = 0;
        long copied = 0;
        int taken = 0;
        busy++;
        try {
            while (taken < n) {
                long addr = rx.addr(taken);
                int len = rx.len(taken);
                int options = rx.options(taken);
                taken++;
                // the one checked move: a descriptor naming no packet in a frame the kernel holds is never
                // trusted (its frame, if the kernel's, goes back to the pool)
                if (pool.takeReceived(addr, len) == UmemFramePool.NOT_RECEIVED) {
                    counters.drop(DropReason.BAD_LENGTH);
                    continue;
                }
                if ((options & XdpPacket.XDP_PKT_CONTD) != 0) {
                    counters.drop(DropReason.MULTI_BUFFER);
                    pool.dropReceived(addr);
                    continue;
                }
                long frame = addr & -frameSize;
                int head = (int) (addr - frame - XdpPacket.XDP_PACKET_HEADROOM);
                UmemByteBuf buf = pool.wrapReceived(frame, head, head + len, options);
                ByteBuf content = buf;
                if (pool.applicationFrames() > copyThreshold) {
                    // the application holds too many frames: copy, so the fill ring never runs dry
                    try {
                        content = tunables.allocator().directBuffer(len).writeBytes(buf);
                    } finally {
                        buf.release();
                    }
                    copied++;
                }
                packets++;
                bytes += len;
                if (!sink.frame(content) || closed) {
                    break;
                }
            }
        } finally {
            rx.release(taken);
            counters.rxPackets += packets;
            counters.rxBytes += bytes;
            counters.rxCopied += copied;
            qs.refill();
            if (--busy == 0 && closed) {
                release();
            }
        }
        return taken;
    }

    /** Takes a dropped frame back from the kernel, unless the descriptor named one it does not hold. */
    private static void dropQuietly(UmemFramePool pool, long frame) {
        try {
            pool.drop(frame);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // not a frame in the kernel's hands: leave it where it is
        }
    }

    // ------------------------------------------------------------------------------------------ TX

    /**
     * A buffer over a free frame of the first queue's UMEM, index 0 at {@code headroom} bytes into the
     * frame (room to prepend in place), empty; null when the pool has no frame to spare. Any thread.
     */
    public UmemByteBuf allocate(int headroom) {
        if (closed) {
            return null;
        }
        UmemFramePool pool = queues[0].pool;
        return pool.allocate(headroom, pool.frameCount() / 4);
    }

    /** The frame capacity of an {@link #allocate}d buffer with no headroom. */
    public int frameCapacity() {
        return frameCapacity;
    }

    /**
     * Queues the readable bytes of {@code frame} as one Ethernet frame: in place when it is a
     * buffer of one of the channel's UMEMs (the pool keeps a reference until the kernel completes the
     * send), else copied. The caller releases {@code frame} as usual.
     *
     * @throws IllegalArgumentException if the frame is shorter than an Ethernet header or longer than
     *                                  {@link #maxFrameLength()}
     */
    public SendResult send(ByteBuf frame) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        int len = frame.readableBytes();
        if (len < EthHdr.LEN || len > maxFrameLength) {
            throw new IllegalArgumentException("a frame of " + len + " bytes: raw frames are " + EthHdr.LEN + " to "
                    + maxFrameLength + " bytes (Ethernet header to MTU plus a tagged header)");
        }
        QueueSocket qs = queues[0];
        UmemByteBuf inPlace = null;
        // a frame already queued (the same buffer written twice) is sent as a copy
        if (frame instanceof UmemByteBuf u) {
            QueueSocket holder = QueueSocket.holdForSend(queues, u);
            if (holder != null) {
                qs = holder;
                inPlace = u;
            }
        }
        if (!qs.reserveTxSlot(counters)) {
            if (inPlace != null) {
                qs.pool.cancelHold(inPlace);
            }
            counters.txRingFull++;
            return SendResult.NO_ROOM;
        }
        UmemFramePool pool = qs.pool;
        long addr;
        int options = 0;
        if (inPlace != null) {
            addr = inPlace.frameAddress() + XdpPacket.XDP_PACKET_HEADROOM + inPlace.headroom() + inPlace.readerIndex();
            if (inPlace.readerIndex() == 0) {
                options = inPlace.options() & XdpPacket.XDP_TX_METADATA;
            }
            txZeroCopy++;
        } else {
            long f = pool.takeForSend(oneFrame, 1) == 1 ? oneFrame[0] : -1;
            if (f < 0) {
                qs.kick(counters);
                qs.reap(counters);
                counters.txRingFull++;
                return SendResult.NO_ROOM;
            }
            addr = f + XdpPacket.XDP_PACKET_HEADROOM;
            Buffers.copy(frame, qs.region(), addr, len);
        }
        qs.xsk.tx().put(qs.txUsed++, addr, len, options);
        txPackets++;
        txBytes += len;
        return SendResult.QUEUED;
    }

    /** Publishes every queued frame, kicks the kernel and reaps completed frames. */
    public void flush() {
        if (released) {
            return;
        }
        if (txPackets > 0) {
            counters.txPackets += txPackets;
            counters.txBytes += txBytes;
            counters.txZeroCopy += txZeroCopy;
            txPackets = 0;
            txBytes = 0;
            txZeroCopy = 0;
        }
        for (QueueSocket qs : queues) {
            qs.publishAndKick(counters);
            qs.reap(counters);
        }
    }

    // ------------------------------------------------------------------------------------- lifecycle

    public FastPathCounters counters() {
        return counters;
    }

    /** Kernel counters summed over the channel's sockets. */
    public XdpStatistics statistics() {
        return QueueSocket.statistics(queues);
    }

    /** Where the frames of each bound queue's UMEM are. */
    public FrameAccounting[] accounting() {
        return QueueSocket.accounting(queues);
    }

    /** Stops steering to this channel, sends what is queued, returns its frames and leaves. Idempotent. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (busy == 0) {
            release();
        }
    }

    private void release() {
        if (released) {
            return;
        }
        flush();
        released = true;
        iface.removeRawChannel(slot);
        for (QueueSocket qs : queues) {
            RxRing rx = qs.xsk.rx();
            UmemFramePool pool = qs.pool;
            int n;
            int drained = 0;
            while ((n = rx.peek(256)) > 0) {
                for (int i = 0; i < n; i++) {
                    dropQuietly(pool, rx.addr(i) & -frameSize);
                }
                rx.release(n);
                drained += n;
            }
            counters.drop(DropReason.CLOSED, drained);
            qs.reap(counters);
            qs.close();
        }
        iface.release();
    }
}
