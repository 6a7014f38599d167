package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.TxRing;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The TX side of one {@link XdpFastPath}: writes a datagram's headers into a frame (in place in front
 * of the payload when it already sits in one of our frames with room, else into a free frame the
 * payload is copied to), or sends a datagram larger than a frame as a descriptor chain (over the
 * received frames it lies in, else copied into free ones), queues it on a TX ring, and publishes and
 * kicks the batch at {@link #flush}. Event-loop confined.
 */
final class FastPathTransmitter {
    private static final int TX_BATCH = QueueSocket.TX_BATCH;

    private final QueueSocket[] queues;
    private final FastPathCounters counters;
    private final FastPathSettings.Tunables tunables;
    private final NextHops nextHops;
    private final UdpFrameWriter writer;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    /** Whether datagrams of each family are the channel's (an IPv6 channel takes IPv4 when dual-stack). */
    private final boolean accept4;
    private final boolean accept6;
    private final int frameCapacity;
    /** Datagrams larger than one frame go out as descriptor chains. */
    private final boolean multiBuffer;
    /** The multi-buffer packet being sent right now. */
    private final FrameChain chain;
    private final long[] txFrames = new long[TX_BATCH];
    private final long[] chainFrames = new long[FrameChain.MAX_TX_FRAGMENTS];
    /** Where the datagram being sent lies in UMEM frames, if it does. */
    private final FrameSpans spans = new FrameSpans(FrameChain.MAX_TX_FRAGMENTS);
    /** The link's MTU, followed by {@link #setMtu}. */
    private int mtu;
    private int txFrameCount;
    /** The pool {@link #txFrames} came from. */
    private UmemFramePool txFramesPool;
    /** TX counts since the last {@link #flush}, published to the channel's counters there. */
    private long txPackets;
    private long txBytes;
    private long txZeroCopy;
    private long txChainCount;

    FastPathTransmitter(QueueSocket[] queues, FastPathCounters counters, FastPathSettings settings,
                        NextHops nextHops, UdpFrameWriter writer, int boundIpv4, byte[] boundIpv6,
                        boolean accept4, boolean accept6, boolean multiBuffer, int mtu, FrameChain chain) {
        this.queues = queues;
        this.counters = counters;
        this.tunables = settings.tunables();
        this.nextHops = nextHops;
        this.writer = writer;
        this.boundIpv4 = boundIpv4;
        this.boundIpv6 = boundIpv6;
        this.accept4 = accept4;
        this.accept6 = accept6;
        this.frameCapacity = settings.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM;
        this.multiBuffer = multiBuffer;
        this.mtu = mtu;
        this.chain = chain;
    }

    /** Follows the link's MTU, which bounds what is sent. */
    void setMtu(int mtu) {
        this.mtu = mtu;
    }

    /**
     * Queues {@code content} to {@code recipient} on queue {@code txQueue}, or on the queue whose frame
     * it is when sent in place (not yet published: see {@link #flush}). Does not take ownership of
     * {@code content}.
     */
    XdpFastPath.SendResult send(ByteBuf content, InetSocketAddress recipient, int txQueue) {
        InetAddress ip = recipient.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        if (v4 ? !accept4 || boundIpv6 != null : !accept6 || boundIpv4 != 0) {
            return XdpFastPath.SendResult.SLOW_PATH;
        }
        if (ip.isMulticastAddress() || ip.isAnyLocalAddress()) {
            return XdpFastPath.SendResult.SLOW_PATH;
        }
        NextHops.Hop hop = nextHops.lookup(ip);
        if (hop == null) {
            return XdpFastPath.SendResult.SLOW_PATH;
        }
        int headers = v4 ? UdpFrameWriter.IPV4_HEADERS : UdpFrameWriter.IPV6_HEADERS;
        int payload = content.readableBytes();
        if (headers - EthHdr.LEN + payload > mtu) {
            return XdpFastPath.SendResult.SLOW_PATH;
        }
        if (headers + payload > frameCapacity) {
            return multiBuffer ? sendChain(content, v4, hop, recipient.getPort(), headers, payload)
                    : XdpFastPath.SendResult.SLOW_PATH;
        }
        UmemByteBuf inPlace = null;
        QueueSocket qs = queues[txQueue];
        // the headers go right below the payload: into the frame's headroom and any bytes already read;
        // a frame already queued (the same buffer written twice) is sent as a copy
        if (content instanceof UmemByteBuf u && u.headroom() + u.readerIndex() >= headers) {
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
            return XdpFastPath.SendResult.NO_ROOM;
        }
        MemorySegment region = qs.region();
        long frame;
        int head;
        if (inPlace != null) {
            frame = inPlace.frameAddress();
            head = inPlace.headroom() + inPlace.readerIndex() - headers;
            txZeroCopy++;
        } else {
            frame = takeTxFrame(qs.pool);
            if (frame < 0) {
                counters.txRingFull++;
                return XdpFastPath.SendResult.NO_ROOM;
            }
            head = 0;
            long dst = frame + XdpPacket.XDP_PACKET_HEADROOM + headers;
            Buffers.copy(content, region, dst, payload);
        }
        long l2 = frame + XdpPacket.XDP_PACKET_HEADROOM + head;
        writer.write(region, l2, v4, hop, recipient.getPort(), payload, tunables.trafficClass());
        qs.xsk.tx().put(qs.txUsed++, l2, headers + payload, 0);
        qs.txPackets++;
        txPackets++;
        txBytes += payload;
        return XdpFastPath.SendResult.QUEUED;
    }

    /**
     * Sends a datagram larger than one frame as a descriptor chain ({@code XDP_PKT_CONTD} on all but the
     * last): over the frames it lies in where it can ({@link #sendChainInPlace}), else copied once into
     * as many free frames as it needs, the headers in the first. More fragments than the kernel builds
     * into one packet take the kernel socket.
     */
    private XdpFastPath.SendResult sendChain(ByteBuf content, boolean v4, NextHops.Hop hop, int port, int headers,
                                             int payload) {
        if (sendChainInPlace(content, v4, hop, port, headers, payload)) {
            return XdpFastPath.SendResult.QUEUED;
        }
        int k = (headers + payload + frameCapacity - 1) / frameCapacity;
        if (k > FrameChain.MAX_TX_FRAGMENTS) {
            return XdpFastPath.SendResult.SLOW_PATH;
        }
        QueueSocket qs = queues[0];
        if (!qs.reserveTxSlots(k, counters)) {
            counters.txRingFull++;
            return XdpFastPath.SendResult.NO_ROOM;
        }
        UmemFramePool pool = qs.pool;
        int got = 0;
        for (; got < k; got++) {
            long f = takeTxFrame(pool);
            if (f < 0) {
                break;
            }
            chainFrames[got] = f;
        }
        if (got < k) {
            pool.cancelSend(chainFrames, got);
            counters.txRingFull++;
            return XdpFastPath.SendResult.NO_ROOM;
        }
        MemorySegment region = qs.region();
        chain.reset();
        int from = content.readerIndex();
        int left = payload;
        for (int i = 0; i < k; i++) {
            long data = chainFrames[i] + XdpPacket.XDP_PACKET_HEADROOM;
            int offset = i == 0 ? headers : 0;
            int n = Math.min(frameCapacity - offset, left);
            Buffers.copy(content, from, region, data + offset, n);
            from += n;
            left -= n;
            chain.add(data, offset + n);
        }
        writer.write(region, chain.addr(0), v4, hop, port, payload, tunables.trafficClass(), chain);
        TxRing tx = qs.xsk.tx();
        for (int i = 0; i < k; i++) {
            tx.put(qs.txUsed++, chain.addr(i), chain.len(i), i < k - 1 ? XdpPacket.XDP_PKT_CONTD : 0);
        }
        qs.txPackets++;
        txPackets++;
        txBytes += payload;
        txChainCount++;
        return XdpFastPath.SendResult.QUEUED;
    }

    /**
     * Sends a datagram whose bytes all lie in received frames of one queue (a received chain written
     * back, modified in place or cut short) as a chain over those frames: the headers go into the first
     * frame's headroom, below its buffer's index 0 (no buffer shows those bytes), each frame is its
     * own descriptor and stays held by the pool until the kernel completes it. Returns false, having
     * queued nothing, where the copy must do: bytes elsewhere, a frame twice or already being sent, the
     * first byte not at its buffer's index 0, too little headroom, more spans than the kernel takes,
     * too few TX slots.
     */
    private boolean sendChainInPlace(ByteBuf content, boolean v4, NextHops.Hop hop, int port, int headers,
                                     int payload) {
        FrameSpans s = spans;
        if (!s.map(content)) {
            return false;
        }
        try {
            UmemByteBuf first = s.buffer(0);
            if (s.index(0) != 0 || first.headroom() < headers) {
                return false;
            }
            QueueSocket qs = null;
            for (QueueSocket candidate : queues) {
                if (candidate.pool.owns(first)) {
                    qs = candidate;
                    break;
                }
            }
            if (qs == null) {
                return false;
            }
            UmemFramePool pool = qs.pool;
            int k = s.count();
            for (int i = 1; i < k; i++) {
                if (!pool.owns(s.buffer(i))) {
                    return false;
                }
            }
            if (!qs.reserveTxSlots(k, counters)) {
                return false;
            }
            for (int i = 0; i < k; i++) {
                if (!pool.holdForSend(s.buffer(i))) {
                    for (int j = 0; j < i; j++) {
                        pool.cancelHold(s.buffer(j));
                    }
                    return false;
                }
            }
            chain.reset();
            for (int i = 0; i < k; i++) {
                UmemByteBuf u = s.buffer(i);
                long data = u.frameAddress() + XdpPacket.XDP_PACKET_HEADROOM + u.headroom() + s.index(i);
                int below = i == 0 ? headers : 0;
                chain.add(data - below, below + s.length(i));
            }
            MemorySegment region = qs.region();
            writer.write(region, chain.addr(0), v4, hop, port, payload, tunables.trafficClass(), chain);
            TxRing tx = qs.xsk.tx();
            for (int i = 0; i < k; i++) {
                tx.put(qs.txUsed++, chain.addr(i), chain.len(i), i < k - 1 ? XdpPacket.XDP_PKT_CONTD : 0);
            }
            qs.txPackets++;
            txPackets++;
            txBytes += payload;
            txChainCount++;
            txZeroCopy++;
            return true;
        } finally {
            s.clear();
        }
    }

    /** A free frame of {@code pool} for a copy, from a batch taken at once; -1 after kicking every queue. */
    private long takeTxFrame(UmemFramePool pool) {
        if (txFramesPool != pool && txFrameCount > 0) {
            txFramesPool.cancelSend(txFrames, txFrameCount);
            txFrameCount = 0;
        }
        if (txFrameCount == 0) {
            txFramesPool = pool;
            txFrameCount = pool.takeForSend(txFrames, TX_BATCH);
            if (txFrameCount == 0) {
                for (QueueSocket qs : queues) {
                    qs.kick(counters);
                    qs.reap(counters);
                }
                return -1;
            }
        }
        return txFrames[--txFrameCount];
    }

    /**
     * Publishes every queued frame and asks the kernel to send them; reaps completed frames of the
     * queues in {@code owned} and of any queue our frames may still be on.
     */
    void flush(boolean[] owned) {
        if (txPackets > 0) {
            counters.txPackets += txPackets;
            counters.txBytes += txBytes;
            counters.txZeroCopy += txZeroCopy;
            counters.txChains += txChainCount;
            txChainCount = 0;
            txPackets = 0;
            txBytes = 0;
            txZeroCopy = 0;
        }
        for (int q = 0; q < queues.length; q++) {
            QueueSocket qs = queues[q];
            qs.publishAndKick(counters);
            // another channel's queue (SO_REUSEPORT) only while our own frames may still be on it
            if (qs.txOutstanding || owned[q]) {
                qs.reap(counters);
            }
        }
        if (txFrameCount > 0) {
            txFramesPool.cancelSend(txFrames, txFrameCount);
            txFrameCount = 0;
        }
    }
}
