package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.RxRing;

import java.net.InetSocketAddress;

/**
 * The RX side of one {@link XdpFastPath}: takes descriptors off its sockets' RX rings, validates them
 * and their frames ({@link UdpFrameParser}), and hands the datagrams on, over their frames or copied
 * when the application already holds too many. Event-loop confined.
 */
final class FastPathReceiver {
    private final QueueSocket[] queues;
    private final UdpFrameParser parser;
    private final FastPathCounters counters;
    private final FastPathSettings.Tunables tunables;
    /** The channel's local address: the recipient of every datagram it receives. */
    private final InetSocketAddress local;
    /** Every queue takes descriptor chains ({@code XDP_USE_SG}, program with frags). */
    private final boolean multiBuffer;
    private final int frameSize;
    /** The multi-buffer packet being received right now. */
    private final FrameChain chain;
    /** Each queue's packet view, over the queue's geometry (the first channel on it chose it). */
    private final XdpPacket[] packets;
    /** Each queue's reusable {@link DatagramPacket} per buffer object of its pool, created on first use. */
    private final FrameDatagramPacket[][] datagrams;
    /** Frames the application may hold before RX copies; from the option and the shared UMEM, per batch. */
    private int copyThreshold;
    /** Set by {@link #stop()}: the batch in progress ends after the datagram being delivered. */
    private volatile boolean stopped;

    FastPathReceiver(QueueSocket[] queues, UdpFrameParser parser, FastPathCounters counters,
                     FastPathSettings settings, InetSocketAddress local, boolean multiBuffer, FrameChain chain) {
        this.queues = queues;
        this.parser = parser;
        this.counters = counters;
        this.tunables = settings.tunables();
        this.local = local;
        this.multiBuffer = multiBuffer;
        this.frameSize = settings.umem().frameSize();
        this.chain = chain;
        this.packets = new XdpPacket[queues.length];
        this.datagrams = new FrameDatagramPacket[queues.length][];
        for (int q = 0; q < queues.length; q++) {
            XskQueue queue = queues[q].queue;
            packets[q] = new XdpPacket(queue.region(), queue.frameSize());
            datagrams[q] = new FrameDatagramPacket[queue.pool().bufferCount()];
        }
    }

    /** Ends the batch in progress after the datagram being delivered, and every later one. */
    void stop() {
        stopped = true;
    }

    /**
     * Takes up to {@code max} frames from queue {@code q}'s RX ring, validates them and passes the
     * datagrams to {@code sink}. Returns the number of frames taken (valid or not).
     */
    int receive(int q, int max, XdpFastPath.DatagramSink sink) {
        if (stopped) {
            return 0;
        }
        QueueSocket qs = queues[q];
        RxRing rx = qs.xsk.rx();
        UmemFramePool pool = qs.pool;
        int n = rx.peek(max);
        if (n == 0) {
            return 0;
        }
        XdpPacket packet = packets[q];
        FrameDatagramPacket[] frameDatagrams = datagrams[q];
        copyThreshold = (int) (pool.frameCount() * tunables.copyFallbackThreshold());
        long received = 0;
        long bytes = 0;
        long copied = 0;
        long chains = 0;
        int taken = 0;
        try {
            for (; taken < n; ) {
                long addr = rx.addr(taken);
                int len = rx.len(taken);
                int options = rx.options(taken);
                ByteBuf content;
                if ((options & XdpPacket.XDP_PKT_CONTD) != 0 && multiBuffer) {
                    int frames = chainLength(rx, taken, n);
                    if (frames == 0) {
                        if (taken > 0) {
                            break; // the batch ends inside a chain: take it whole next time
                        }
                        n = rx.peek(max + chain.maxFragments() + 1);
                        frames = chainLength(rx, taken, n);
                    }
                    if (frames <= 0) {
                        // longer than any frame (-k) or cut off at the ring's end (0): every frame back
                        int bad = frames < 0 ? -frames : n - taken;
                        dropFrames(pool, rx, taken, bad);
                        taken += bad;
                        continue;
                    }
                    // consumed before parsing: if building the content fails, no descriptor is read again
                    taken += frames;
                    content = parseChain(packet, pool, rx, taken - frames, frames);
                    if (content != null) {
                        chains++;
                    }
                } else {
                    taken++;
                    content = parse(packet, pool, addr, len, options);
                }
                if (content == null) {
                    continue;
                }
                received++;
                bytes += content.readableBytes();
                DatagramPacket datagram;
                if (content instanceof UmemByteBuf frame) {
                    datagram = datagram(frameDatagrams, frame, parser.sender());
                } else {
                    copied += content instanceof CompositeByteBuf ? 0 : 1;
                    datagram = new DatagramPacket(content, local, parser.sender());
                }
                if (!sink.datagram(datagram) || stopped) {
                    break;
                }
            }
        } finally {
            rx.release(taken);
            qs.rxPackets += received;
            counters.rxPackets += received;
            counters.rxBytes += bytes;
            counters.rxCopied += copied;
            counters.rxChains += chains;
            qs.refill();
        }
        return taken;
    }

    private DatagramPacket datagram(FrameDatagramPacket[] frameDatagrams, UmemByteBuf content,
                                    InetSocketAddress sender) {
        // one per buffer object, not per frame: recycled with it, so as warm in the cache as it is
        FrameDatagramPacket d = frameDatagrams[content.bufferIndex()];
        if (d == null) {
            d = new FrameDatagramPacket();
            frameDatagrams[content.bufferIndex()] = d;
        }
        return d.set(content, local, sender);
    }

    /** Validates one frame; returns its payload (owning the frame, or a copy), or null after counting a drop. */
    private ByteBuf parse(XdpPacket packet, UmemFramePool pool, long addr, int len, int options) {
        if (!takeDescriptor(pool, addr, len)) {
            return null;
        }
        XdpPacket p = packet.resetFromDescriptor(addr, len, options);
        DropReason drop = parser.validate(p, tunables.rxChecksum());
        if (drop != null) {
            counters.drop(drop);
            pool.dropReceived(addr);
            return null;
        }
        int head = parser.payloadHead(p);
        int payload = parser.payloadLength();
        UmemByteBuf frame = pool.wrapReceived(p.frameAddr(), head, head + payload, options);
        if (pool.applicationFrames() <= copyThreshold) {
            return frame;
        }
        // the application holds too many frames: copy, so the fill ring never runs dry
        try {
            return tunables.allocator().directBuffer(payload).writeBytes(frame);
        } finally {
            frame.release();
        }
    }

    /**
     * Descriptors in the chain starting at peeked entry {@code from}: its length k if it ends (a
     * descriptor without {@code XDP_PKT_CONTD}) before {@code n}; 0 if it is still open at {@code n};
     * -k if it runs over {@link FrameChain#maxFragments()} (k: the descriptors to drop, up to and
     * including its end, or up to {@code n} if it has none there).
     */
    private int chainLength(RxRing rx, int from, int n) {
        int max = chain.maxFragments();
        for (int i = from; i < n; i++) {
            if ((rx.options(i) & XdpPacket.XDP_PKT_CONTD) == 0) {
                int k = i - from + 1;
                return k <= max ? k : -k;
            }
        }
        return n - from > max ? -(n - from) : 0;
    }

    private void dropFrames(UmemFramePool pool, RxRing rx, int from, int k) {
        for (int i = from; i < from + k; i++) {
            if (takeDescriptor(pool, rx.addr(i), rx.len(i))) {
                pool.dropReceived(rx.addr(i));
            }
        }
        counters.drop(DropReason.MULTI_BUFFER);
    }

    /**
     * Validates the multi-buffer packet in peeked entries {@code [from, from + k)}; returns its payload
     * as a composite over the frames (each a {@link UmemByteBuf}, index 0 the first payload byte),
     * or a copy when the application holds too many frames; or null after dropping every frame and
     * counting why.
     */
    private ByteBuf parseChain(XdpPacket packet, UmemFramePool pool, RxRing rx, int from, int k) {
        chain.reset();
        boolean valid = true;
        for (int i = from; i < from + k; i++) {
            long addr = rx.addr(i);
            int len = rx.len(i);
            if (takeDescriptor(pool, addr, len)) {
                chain.add(addr, len);
            } else {
                valid = false; // counted, and its frame given back if it was the kernel's
            }
        }
        if (!valid) {
            for (int i = 0; i < chain.count(); i++) {
                pool.dropReceived(chain.addr(i));
            }
            return null;
        }
        XdpPacket p = packet.resetFromDescriptor(chain.addr(0), chain.len(0), rx.options(from));
        DropReason drop = parser.validate(p, chain, tunables.rxChecksum());
        if (drop != null) {
            counters.drop(drop);
            for (int i = 0; i < k; i++) {
                pool.dropReceived(chain.addr(i));
            }
            return null;
        }
        return FrameChainContent.build(chain, pool, frameSize, parser.payloadHead(p), parser.payloadLength(),
                pool.applicationFrames() + k > copyThreshold, tunables.allocator());
    }

    /**
     * Takes the frame of RX descriptor {@code (addr, len)} back from the kernel ({@link
     * UmemFramePool#takeReceived}). False after counting an {@link DropReason#INVALID_DESCRIPTOR} drop
     * when the descriptor fails validation; its frame then went back to the pool if (and only if) it
     * is one the kernel had, so nothing is freed twice.
     */
    boolean takeDescriptor(UmemFramePool pool, long addr, int len) {
        if (pool.takeReceived(addr, len) != UmemFramePool.NOT_RECEIVED) {
            return true;
        }
        counters.drop(DropReason.INVALID_DESCRIPTOR);
        return false;
    }

    /** Returns every frame still waiting in {@code qs}'s RX ring to the pool, counted as CLOSED drops. */
    void drain(QueueSocket qs) {
        RxRing rx = qs.xsk.rx();
        UmemFramePool pool = qs.pool;
        int n;
        while ((n = rx.peek(256)) > 0) {
            for (int i = 0; i < n; i++) {
                long addr = rx.addr(i);
                if (takeDescriptor(pool, addr, rx.len(i))) {
                    pool.dropReceived(addr);
                    counters.drop(DropReason.CLOSED);
                }
            }
            rx.release(n);
        }
    }
}
