package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.RxRing;
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
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;


/**
 * The AF_XDP side of one datagram channel: a socket on every RX queue of the channel's
 * interface, the port's entry in the interface's steering program, and the code that turns frames
 * into datagrams and back.
 *
 * <p>RX parses and validates Ethernet (one VLAN tag), IPv4 or IPv6 and UDP headers, then hands the
 * payload on as a {@link UmemByteBuf} over the frame (no copy), or as a copy when the application
 * already holds too many frames. TX writes the headers into a frame (in place, in front of the
 * payload, when the payload already sits in one of our frames with enough headroom), computes the
 * checksums, and queues it; {@link #flush()} publishes the batch and kicks the kernel once.
 *
 * <p>Event-loop confined, except where noted.
 */
public final class XdpFastPath {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpFastPath.class);
    /** TX descriptors reserved per batch. */
    private static final int TX_BATCH = 64;

    /** Receives the datagrams {@link #receive} produces. */
    public interface DatagramSink {
        /** One valid datagram; the sink owns it. Returns false to stop the batch. */
        boolean datagram(DatagramPacket packet);
    }

    /** Outcome of {@link #send}. */
    public enum SendResult {
        /** Queued on a TX ring; sent at the next {@link #flush()}. */
        QUEUED,
        /** No TX slot or free frame now: retry after the kernel completes sends. */
        NO_ROOM,
        /** Not for the fast path (family, destination, size, no next hop): use the kernel socket. */
        SLOW_PATH
    }

    /** One queue: the shared UMEM state and this channel's socket on it. */
    private static final class QueueSocket {
        final XskQueue queue;
        final XdpSocket xsk;
        final XdpPacket packet;
        /** The reusable {@link DatagramPacket} of each frame, created on first use. */
        final FrameDatagramPacket[] datagrams;
        int txReserved;
        int txUsed;

        QueueSocket(XskQueue queue, XdpSocket xsk, int frameSize) {
            this.queue = queue;
            this.xsk = xsk;
            this.packet = new XdpPacket(queue.region(), frameSize);
            this.datagrams = new FrameDatagramPacket[queue.pool().frameCount()];
        }

        DatagramPacket datagram(UmemByteBuf content, InetSocketAddress recipient, InetSocketAddress sender) {
            FrameDatagramPacket d = datagrams[content.frameIndex()];
            if (d == null) {
                d = new FrameDatagramPacket();
                datagrams[content.frameIndex()] = d;
            }
            return d.set(content, recipient, sender);
        }
    }

    private final XdpInterface iface;
    private final int slot;
    private final int port;
    /** The channel's local address: the recipient of every datagram it receives. */
    private final InetSocketAddress local;
    /** The bound address, null for the wildcard: with {@link #port}, the channel's steering entry. */
    private final InetAddress boundIp;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    private final QueueSocket[] queues;
    private final FastPathSettings.Tunables tunables;
    private final FastPathCounters counters = new FastPathCounters();
    private final NextHops nextHops;
    private final int mtu;
    private final UdpFrameParser parser;
    private final UdpFrameWriter writer;
    private final int frameCapacity;
    /** Every queue takes and sends descriptor chains ({@code XDP_USE_SG}, program with frags). */
    private final boolean multiBuffer;
    /** Frames the application may hold before RX copies; from the option and the shared UMEM, per batch. */
    private int copyThreshold;

    /** The multi-buffer packet being received (RX) or sent (TX) right now. */
    private final FrameChain chain;
    private final int frameSize;
    private final long[] txFrames = new long[TX_BATCH];
    private final long[] chainFrames = new long[FrameChain.MAX_TX_FRAGMENTS];
    private int txFrameCount;
    /** TX counts since the last {@link #flush()}, published to the channel's counters there. */
    private long txPackets;
    private long txBytes;
    private long txZeroCopy;
    private long txChainCount;
    /** Set once {@link #close()} was asked for: no new work starts. Volatile for {@link #frameBuffer()}. */
    private volatile boolean closed;
    /** Nesting depth of {@link #receive} and {@link #flush}: rings must stay mapped while positive. */
    private int busy;
    private boolean released;

    private XdpFastPath(XdpInterface iface, int slot, InetSocketAddress local, InetAddress boundIp,
                        QueueSocket[] queues, FastPathSettings settings, boolean multiBuffer) {
        this.multiBuffer = multiBuffer;
        this.iface = iface;
        this.slot = slot;
        this.port = local.getPort();
        this.local = local;
        this.boundIp = boundIp;
        this.boundIpv4 = boundIp instanceof Inet4Address ? toInt(boundIp.getAddress()) : 0;
        this.boundIpv6 = boundIp instanceof Inet6Address ? boundIp.getAddress() : null;
        this.queues = queues;
        this.tunables = settings.tunables();
        LinkInfo link = iface.link();
        this.nextHops = new NextHops(link.index(), link.isLoopback());
        long ifMac = link.mac() == null ? 0 : link.mac().bits();
        this.mtu = link.mtu();
        this.parser = new UdpFrameParser(port, boundIpv4, boundIpv6, ifMac, !link.isLoopback() && ifMac != 0,
                link.index());
        this.writer = new UdpFrameWriter(port, boundIpv4, boundIpv6, ifMac);
        this.frameCapacity = settings.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM;
        this.chain = new FrameChain(frameCapacity);
        this.frameSize = settings.umem().frameSize();
    }

    /**
     * Binds a socket on every RX queue of {@code link} and steers UDP port {@code port} to them.
     * {@code boundIp} is null for the wildcard address.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                   FastPathSettings settings) throws IOException {
        int port = local.getPort();
        XdpInterface iface = XdpInterface.acquire(link, settings.attachMode());
        int slot = -1;
        QueueSocket[] queues = new QueueSocket[iface.queues()];
        boolean portAdded = false;
        try {
            slot = iface.allocateSlot();
            UmemConfig umem = settings.umem();
            int ring = settings.ringSize();
            XdpSocketConfig socketConfig = new XdpSocketConfig(link.index(), 0, ring, ring,
                    Math.max(ring, Math.min(umem.frameCount() / 2, 65536)), Math.max(ring, 2048),
                    settings.zeroCopy(), true, iface.hasFrags());
            for (int q = 0; q < queues.length; q++) {
                XskQueue queue = XskQueue.acquire(link.index(), q, umem, socketConfig, settings.tunables().allocator());
                try {
                    if (settings.zeroCopy() == ZeroCopyMode.REQUIRED && !queue.isZeroCopy()) {
                        throw new IOException("XdpChannelOption.ZERO_COPY is REQUIRED but queue " + q + " of "
                                + link.name() + " is bound in copy mode (the kernel chose it for an earlier channel,"
                                + " or the driver has no zero-copy support); use XdpZeroCopy.AUTO to accept it");
                    }
                    XdpSocket xsk = queue.openSocket(socketConfig.withQueueId(q));
                    if (settings.busyPollBudget() > 0) {
                        preferBusyPoll(xsk, settings.busyPollBudget());
                    }
                    queues[q] = new QueueSocket(queue, xsk, umem.frameSize());
                } catch (IOException | RuntimeException e) {
                    queue.release();
                    throw e;
                }
                iface.setSocket(slot, q, queues[q].xsk.fd());
            }
            boolean multiBuffer = iface.hasFrags();
            for (QueueSocket qs : queues) {
                multiBuffer &= qs.queue.isMultiBuffer();
            }
            // multi-buffer: every frame the interface takes fits a chain; else longer ones go to the kernel
            iface.addPort(port, boundIp, slot, multiBuffer ? 0 : umem.maxRxFrameLength());
            portAdded = true;
            XdpFastPath fp = new XdpFastPath(iface, slot, local, boundIp, queues, settings, multiBuffer);
            logger.info("{} on {}: XDP {}, {}", local, link.name(),
                    iface.attachedMode() == XdpMode.DRV ? "native" : "generic", fp.describeQueues());
            return fp;
        } catch (IOException | RuntimeException e) {
            if (slot >= 0) {
                iface.removeChannel(portAdded ? port : -1, boundIp, slot);
            }
            for (QueueSocket qs : queues) {
                if (qs != null) {
                    qs.xsk.close();
                    qs.queue.release();
                }
            }
            iface.release();
            throw e;
        }
    }

    private static void preferBusyPoll(XdpSocket xsk, int budget) throws SyscallException {
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL");
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_BUSY_POLL, 50, "SO_BUSY_POLL");
        Syscalls.setsockopt(xsk.fd(), Linux.SOL_SOCKET, Linux.SO_BUSY_POLL_BUDGET, budget, "SO_BUSY_POLL_BUDGET");
    }

    /** True if the steering program runs in native (driver) mode, false for generic (SKB) mode. */
    public boolean isNativeMode() {
        return iface.attachedMode() == XdpMode.DRV;
    }

    /** True if the kernel bound queue {@code q} in zero-copy mode ({@code XDP_OPTIONS}). */
    public boolean isZeroCopy(int q) {
        return queues[q].queue.isZeroCopy();
    }

    /** True if queue {@code q}'s socket bound with {@code XDP_USE_NEED_WAKEUP}. */
    public boolean isNeedWakeup(int q) {
        return queues[q].queue.needsWakeupFlag();
    }

    /** True if queue {@code q}'s socket takes multi-buffer frames ({@code XDP_USE_SG}). */
    public boolean isMultiBuffer(int q) {
        return queues[q].queue.isMultiBuffer();
    }

    /** True if datagrams larger than one frame use this fast path (every queue multi-buffer). */
    public boolean isMultiBuffer() {
        return multiBuffer;
    }

    private String describeQueues() {
        StringBuilder b = new StringBuilder();
        for (int q = 0; q < queues.length; q++) {
            b.append(q == 0 ? "" : "; ").append("queue ").append(q).append(isZeroCopy(q) ? " zero-copy" : " copy")
                    .append(isNeedWakeup(q) ? ", need-wakeup" : ", no need-wakeup")
                    .append(isMultiBuffer(q) ? ", multi-buffer" : ", single-buffer");
        }
        return b.toString();
    }

    /** Descriptors to watch for received frames, one per queue. */
    public int queueCount() {
        return queues.length;
    }

    public int socketFd(int queue) {
        return queues[queue].xsk.fd();
    }

    /** Index of the queue whose socket is {@code fd}, or -1. */
    public int queueOf(int fd) {
        for (int q = 0; q < queues.length; q++) {
            if (queues[q].xsk.fd() == fd) {
                return q;
            }
        }
        return -1;
    }

    public LinkInfo link() {
        return iface.link();
    }

    /** Restricts RX to datagrams from {@code peer} (null: from anyone). */
    public void connect(InetSocketAddress peer) {
        parser.connect(peer);
    }

    // ------------------------------------------------------------------------------------------ RX

    /**
     * Takes up to {@code max} frames from queue {@code q}'s RX ring, validates them and passes the
     * datagrams to {@code sink}. Returns the number of frames taken (valid or not).
     */
    public int receive(int q, int max, DatagramSink sink) {
        if (closed) {
            return 0;
        }
        QueueSocket qs = queues[q];
        RxRing rx = qs.xsk.rx();
        UmemFramePool pool = qs.queue.pool();
        int n = rx.peek(max);
        if (n == 0) {
            return 0;
        }
        copyThreshold = (int) (pool.frameCount() * tunables.copyFallbackThreshold());
        long packets = 0;
        long bytes = 0;
        long copied = 0;
        long chains = 0;
        int taken = 0;
        busy++;
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
                    content = parseChain(qs, pool, rx, taken, frames);
                    taken += frames;
                    if (content != null) {
                        chains++;
                    }
                } else {
                    taken++;
                    content = parse(qs, pool, addr, len, options);
                }
                if (content == null) {
                    continue;
                }
                packets++;
                bytes += content.readableBytes();
                DatagramPacket datagram;
                if (content instanceof UmemByteBuf frame) {
                    datagram = qs.datagram(frame, local, parser.sender());
                } else {
                    copied += content instanceof CompositeByteBuf ? 0 : 1;
                    datagram = new DatagramPacket(content, local, parser.sender());
                }
                if (!sink.datagram(datagram) || closed) {
                    break;
                }
            }
        } finally {
            rx.release(taken);
            counters.rxPackets += packets;
            counters.rxBytes += bytes;
            counters.rxCopied += copied;
            counters.rxChains += chains;
            qs.queue.refill(qs.xsk.fill().size());
            if (qs.xsk.fill().needsWakeup()) {
                qs.xsk.wakeupRx();
            }
            if (--busy == 0 && closed) {
                release();
            }
        }
        return taken;
    }

    /** Validates one frame; returns its payload (owning the frame, or a copy), or null after counting a drop. */
    private ByteBuf parse(QueueSocket qs, UmemFramePool pool, long addr, int len, int options) {
        XdpPacket p = qs.packet.resetFromDescriptor(addr, len, options);
        DropReason drop = parser.validate(p, tunables.rxChecksum());
        if (drop != null) {
            counters.drop(drop);
            pool.drop(addr);
            return null;
        }
        int head = parser.payloadHead(p);
        int payload = parser.payloadLength();
        UmemByteBuf frame = pool.wrap(p.frameAddr(), head, head + payload, options);
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
            pool.drop(rx.addr(i));
        }
        counters.drop(DropReason.MULTI_BUFFER);
    }

    /**
     * Validates the multi-buffer packet in peeked entries {@code [from, from + k)}; returns its payload
     * as a composite over the frames (each a {@link UmemByteBuf}, index 0 the first payload byte),
     * or a copy when the application holds too many frames; or null after dropping every frame and
     * counting why.
     */
    private ByteBuf parseChain(QueueSocket qs, UmemFramePool pool, RxRing rx, int from, int k) {
        chain.reset();
        for (int i = from; i < from + k; i++) {
            chain.add(rx.addr(i), rx.len(i));
        }
        XdpPacket p = qs.packet.resetFromDescriptor(chain.addr(0), chain.len(0), rx.options(from));
        DropReason drop = parser.validate(p, chain, tunables.rxChecksum());
        if (drop != null) {
            counters.drop(drop);
            for (int i = 0; i < k; i++) {
                pool.drop(chain.addr(i));
            }
            return null;
        }
        return FrameChainContent.build(chain, pool, frameSize, parser.payloadHead(p), parser.payloadLength(),
                pool.applicationFrames() + k > copyThreshold, tunables.allocator());
    }

    // ------------------------------------------------------------------------------------------ TX

    /** Room reserved in front of a frame buffer's data: the largest header stack the fast path writes. */
    public static final int FRAME_BUFFER_HEADROOM = UdpFrameWriter.IPV6_HEADERS;

    /**
     * A buffer over a free frame of queue 0, with headroom for the headers, or null when the pool has
     * no frame to spare or this fast path is closed. Any thread, also concurrently with {@link #close()}:
     * the pool hands out no frame once closed, and stays mapped while a buffer it handed out is held.
     */
    public UmemByteBuf frameBuffer() {
        if (closed) {
            return null;
        }
        UmemFramePool pool = queues[0].queue.pool();
        return pool.allocate(FRAME_BUFFER_HEADROOM, pool.frameCount() / 4);
    }

    /**
     * Queues {@code content} to {@code recipient} (not yet published: see {@link #flush()}). Does not
     * take ownership of {@code content}; the caller releases it as usual.
     */
    public SendResult send(ByteBuf content, InetSocketAddress recipient) {
        if (closed) {
            return SendResult.SLOW_PATH;
        }
        InetAddress ip = recipient.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        if (v4 ? boundIpv6 != null : boundIpv4 != 0) {
            return SendResult.SLOW_PATH;
        }
        if (ip.isMulticastAddress() || ip.isAnyLocalAddress()) {
            return SendResult.SLOW_PATH;
        }
        NextHops.Hop hop = nextHops.lookup(ip);
        if (hop == null) {
            return SendResult.SLOW_PATH;
        }
        int headers = v4 ? UdpFrameWriter.IPV4_HEADERS : UdpFrameWriter.IPV6_HEADERS;
        int payload = content.readableBytes();
        if (headers - EthHdr.LEN + payload > mtu) {
            return SendResult.SLOW_PATH;
        }
        if (headers + payload > frameCapacity) {
            return multiBuffer ? sendChain(content, v4, hop, recipient.getPort(), headers, payload)
                    : SendResult.SLOW_PATH;
        }
        UmemByteBuf inPlace = null;
        QueueSocket qs = queues[0];
        // the headers go right below the payload: into the frame's headroom and any bytes already read;
        // a frame already queued (the same buffer written twice) is sent as a copy
        if (content instanceof UmemByteBuf u && u.headroom() + u.readerIndex() >= headers) {
            for (QueueSocket candidate : queues) {
                if (candidate.queue.pool().owns(u)) {
                    if (candidate.queue.pool().holdForSend(u)) {
                        qs = candidate;
                        inPlace = u;
                    }
                    break;
                }
            }
        }
        if (!reserveTxSlot(qs)) {
            if (inPlace != null) {
                qs.queue.pool().cancelHold(inPlace);
            }
            counters.txRingFull++;
            return SendResult.NO_ROOM;
        }
        UmemFramePool pool = qs.queue.pool();
        MemorySegment region = qs.queue.region();
        long frame;
        int head;
        if (inPlace != null) {
            frame = inPlace.frameAddress();
            head = inPlace.headroom() + inPlace.readerIndex() - headers;
            txZeroCopy++;
        } else {
            frame = takeTxFrame(pool);
            if (frame < 0) {
                counters.txRingFull++;
                return SendResult.NO_ROOM;
            }
            head = 0;
            long dst = frame + XdpPacket.XDP_PACKET_HEADROOM + headers;
            Buffers.copy(content, region, dst, payload);
        }
        long l2 = frame + XdpPacket.XDP_PACKET_HEADROOM + head;
        writer.write(region, l2, v4, hop, recipient.getPort(), payload, tunables.trafficClass());
        qs.xsk.tx().put(qs.txUsed++, l2, headers + payload, 0);
        txPackets++;
        txBytes += payload;
        return SendResult.QUEUED;
    }

    /**
     * Sends a datagram larger than one frame as a descriptor chain ({@code XDP_PKT_CONTD} on all but the
     * last): copied once into as many free frames as it needs, the headers in the first. More
     * fragments than the kernel builds into one packet take the kernel socket.
     */
    private SendResult sendChain(ByteBuf content, boolean v4, NextHops.Hop hop, int port, int headers, int payload) {
        int k = (headers + payload + frameCapacity - 1) / frameCapacity;
        if (k > FrameChain.MAX_TX_FRAGMENTS) {
            return SendResult.SLOW_PATH;
        }
        QueueSocket qs = queues[0];
        if (!reserveTxSlots(qs, k)) {
            counters.txRingFull++;
            return SendResult.NO_ROOM;
        }
        UmemFramePool pool = qs.queue.pool();
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
            return SendResult.NO_ROOM;
        }
        MemorySegment region = qs.queue.region();
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
        txPackets++;
        txBytes += payload;
        txChainCount++;
        return SendResult.QUEUED;
    }

    /** Makes sure {@code k} consecutive TX slots are reserved, publishing what is queued first if needed. */
    private boolean reserveTxSlots(QueueSocket qs, int k) {
        if (qs.txReserved - qs.txUsed >= k) {
            return true;
        }
        TxRing tx = qs.xsk.tx();
        if (qs.txUsed > 0) {
            publish(qs);
        }
        qs.txReserved = tx.reserve(TX_BATCH);
        if (qs.txReserved < k) {
            kick(qs);
            reap(qs);
            qs.txReserved = tx.reserve(TX_BATCH);
        }
        return qs.txReserved >= k;
    }

    private boolean reserveTxSlot(QueueSocket qs) {
        if (qs.txUsed < qs.txReserved) {
            return true;
        }
        TxRing tx = qs.xsk.tx();
        if (qs.txUsed > 0) {
            publish(qs);
        }
        qs.txReserved = tx.reserve(TX_BATCH);
        if (qs.txReserved == 0) {
            kick(qs);
            reap(qs);
            qs.txReserved = tx.reserve(TX_BATCH);
        }
        return qs.txReserved > 0;
    }

    private long takeTxFrame(UmemFramePool pool) {
        if (txFrameCount == 0) {
            txFrameCount = pool.takeForSend(txFrames, TX_BATCH);
            if (txFrameCount == 0) {
                for (QueueSocket qs : queues) {
                    kick(qs);
                    reap(qs);
                }
                return -1;
            }
        }
        return txFrames[--txFrameCount];
    }

    /** Publishes every queued frame and asks the kernel to send them; reaps completed frames. */
    public void flush() {
        if (released) {
            return;
        }
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
        for (QueueSocket qs : queues) {
            if (qs.txUsed > 0) {
                publish(qs);
                kick(qs);
            }
            reap(qs);
        }
        if (txFrameCount > 0) {
            queues[0].queue.pool().cancelSend(txFrames, txFrameCount);
            txFrameCount = 0;
        }
    }

    private static void publish(QueueSocket qs) {
        qs.xsk.tx().submit(qs.txUsed);
        qs.txUsed = 0;
        qs.txReserved = 0;
    }

    /**
     * Kicks until the kernel has taken everything off the TX ring: in copy mode each kick sends a
     * bounded batch (about 32 frames) synchronously.
     */
    private void kick(QueueSocket qs) {
        TxRing tx = qs.xsk.tx();
        int pending = tx.entries();
        for (int attempts = pending / 16 + 2; pending > 0 && attempts > 0; attempts--) {
            int r = qs.xsk.kickTx();
            if (r < 0 && r != -Errno.EAGAIN) {
                counters.txKickErrors++;
                break;
            }
            pending = tx.entries();
        }
    }

    private static void reap(QueueSocket qs) {
        qs.queue.reapCompletions();
    }

    // ------------------------------------------------------------------------------------- lifecycle

    /** This fast path's counters. */
    public FastPathCounters counters() {
        return counters;
    }

    /** Kernel counters summed over the channel's sockets. */
    public XdpStatistics statistics() {
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

    /** Where the frames of each queue's UMEM are. */
    public org.nettyxdp.buffer.FrameAccounting[] accounting() {
        org.nettyxdp.buffer.FrameAccounting[] a = new org.nettyxdp.buffer.FrameAccounting[queues.length];
        for (int q = 0; q < queues.length; q++) {
            a[q] = queues[q].queue.pool().accounting();
        }
        return a;
    }

    /**
     * Stops steering the port here, sends what is queued, returns every frame still in this
     * channel's rings to the pool, then closes the sockets and leaves the queues and the interface.
     * Called from inside {@link #receive} (a handler closing its channel), the teardown waits until
     * the batch is done, so no ring is unmapped under the loop. Idempotent.
     */
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
        iface.removeChannel(port, boundIp, slot);
        for (QueueSocket qs : queues) {
            RxRing rx = qs.xsk.rx();
            UmemFramePool pool = qs.queue.pool();
            int n;
            int drained = 0;
            while ((n = rx.peek(256)) > 0) {
                for (int i = 0; i < n; i++) {
                    pool.drop(rx.addr(i));
                }
                rx.release(n);
                drained += n;
            }
            counters.drop(DropReason.CLOSED, drained);
            reap(qs);
            qs.xsk.close();
            qs.queue.release();
        }
        nextHops.close();
        iface.release();
    }

    static int toInt(byte[] a) {
        return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
    }
}
