package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.channel.socket.DatagramPacket;
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
 * <p>Channels bound with {@code SO_REUSEPORT} to the same address and port form a {@link PortGroup}:
 * each RX queue is steered to the socket of exactly one of them ({@link #ownsQueue}), and each sends
 * on a queue of its own ({@link #txQueue()}).
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
    /** TX descriptors reserved per batch. */
    private static final int TX_BATCH = 64;
    /**
     * {@code SOL_XDP} option {@code XDP_MAX_TX_SKB_BUDGET} (Linux 6.17+): how many descriptors one
     * copy-mode {@code sendto} sends (32 by default, at most the TX ring size).
     */
    private static final int SOL_XDP = 283;
    private static final int XDP_MAX_TX_SKB_BUDGET = 9;

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
        /** Frames were published here since the completion ring was last seen empty. */
        boolean txOutstanding;
        /** Datagrams received from and queued on this queue (event-loop confined; read on the loop). */
        long rxPackets;
        long txPackets;

        QueueSocket(XskQueue queue, XdpSocket xsk, int frameSize) {
            this.queue = queue;
            this.xsk = xsk;
            this.packet = new XdpPacket(queue.pool().umem().region(), frameSize);
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
    private final boolean reusePort;
    /** Set once the fast path has joined its port's group. */
    private PortGroup group;
    private final PortGroup.Member membership = new PortGroup.Member() {
        @Override
        public int socketFd(int queue) {
            return queues[queue].xsk.fd();
        }

        @Override
        public void assign(boolean[] ownedQueues, int tx) {
            owned = ownedQueues;
            txQueue = tx;
        }
    };
    /** RX queues steered to this channel's sockets; replaced whole by the group (any thread). */
    private volatile boolean[] owned;
    /** The queue this channel transmits on; set by the group (any thread). */
    private volatile int txQueue;
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
    /** Frames the application may hold before RX copies; from the option and the shared UMEM, per batch. */
    private int copyThreshold;

    private final long[] txFrames = new long[TX_BATCH];
    private int txFrameCount;
    /** The pool {@link #txFrames} came from. */
    private UmemFramePool txFramesPool;
    /** TX counts since the last {@link #flush()}, published to the channel's counters there. */
    private long txPackets;
    private long txBytes;
    private long txZeroCopy;
    /** Set once {@link #close()} was asked for: no new work starts. */
    private boolean closed;
    /** Nesting depth of {@link #receive} and {@link #flush}: rings must stay mapped while positive. */
    private int busy;
    private boolean released;

    private XdpFastPath(XdpInterface iface, InetSocketAddress local, InetAddress boundIp,
                        QueueSocket[] queues, FastPathSettings settings) {
        this.iface = iface;
        this.reusePort = settings.reusePort();
        this.owned = new boolean[queues.length];
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
    }

    /**
     * Binds a socket on every RX queue of {@code link} and steers UDP port {@code port} to them (with
     * {@link FastPathSettings#reusePort()}: to the ones of its queues, shared with the other channels
     * of the port and address). {@code boundIp} is null for the wildcard address.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                   FastPathSettings settings) throws IOException {
        int port = local.getPort();
        XdpInterface iface = XdpInterface.acquire(link, settings.attachMode());
        QueueSocket[] queues = new QueueSocket[iface.queues()];
        try {
            UmemConfig umem = settings.umem();
            int ring = settings.ringSize();
            XdpSocketConfig socketConfig = new XdpSocketConfig(link.index(), 0, ring, ring,
                    Math.max(ring, Math.min(umem.frameCount() / 2, 65536)), Math.max(ring, 2048),
                    settings.zeroCopy(), true, false);
            for (int q = 0; q < queues.length; q++) {
                XskQueue queue = XskQueue.acquire(link.index(), q, umem, socketConfig, settings.tunables().allocator());
                try {
                    XdpSocket xsk = queue.openSocket(socketConfig.withQueueId(q));
                    if (settings.busyPollBudget() > 0) {
                        preferBusyPoll(xsk, settings.busyPollBudget());
                    }
                    raiseTxBudget(xsk, ring);
                    queues[q] = new QueueSocket(queue, xsk, umem.frameSize());
                } catch (IOException | RuntimeException e) {
                    queue.release();
                    throw e;
                }
            }
            XdpFastPath fp = new XdpFastPath(iface, local, boundIp, queues, settings);
            fp.group = iface.join(port, boundIp, settings.reusePort(), umem.maxRxFrameLength(), fp.membership);
            return fp;
        } catch (IOException | RuntimeException e) {
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

    /** True if RX queue {@code queue} is steered to this channel now. Any thread. */
    public boolean ownsQueue(int queue) {
        return owned[queue];
    }

    /** The queue this channel transmits on. Any thread. */
    public int txQueue() {
        return txQueue;
    }

    /** Datagrams received from RX queue {@code queue}. Event loop. */
    public long rxPackets(int queue) {
        return queues[queue].rxPackets;
    }

    /** Datagrams queued for sending on queue {@code queue}. Event loop. */
    public long txPackets(int queue) {
        return queues[queue].txPackets;
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
        int taken = 0;
        busy++;
        try {
            for (; taken < n; ) {
                long addr = rx.addr(taken);
                int len = rx.len(taken);
                int options = rx.options(taken);
                taken++;
                ByteBuf content = parse(qs, pool, addr, len, options);
                if (content == null) {
                    continue;
                }
                packets++;
                bytes += content.readableBytes();
                DatagramPacket datagram;
                if (content instanceof UmemByteBuf frame) {
                    datagram = qs.datagram(frame, local, parser.sender());
                } else {
                    copied++;
                    datagram = new DatagramPacket(content, local, parser.sender());
                }
                if (!sink.datagram(datagram) || closed) {
                    break;
                }
            }
        } finally {
            rx.release(taken);
            qs.rxPackets += packets;
            counters.rxPackets += packets;
            counters.rxBytes += bytes;
            counters.rxCopied += copied;
            pool.lock().lock();
            try {
                pool.receivedLocked(taken);
                pool.refill(qs.xsk.fill(), qs.xsk.fill().size());
            } finally {
                pool.lock().unlock();
            }
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

    // ------------------------------------------------------------------------------------------ TX

    /** Room reserved in front of a frame buffer's data: the largest header stack the fast path writes. */
    public static final int FRAME_BUFFER_HEADROOM = UdpFrameWriter.IPV6_HEADERS;

    /**
     * A buffer over a free frame of queue 0, with headroom for the headers, or null when the pool has
     * no frame to spare. Any thread.
     */
    public UmemByteBuf frameBuffer() {
        if (closed) {
            return null;
        }
        UmemFramePool pool = queues[txQueue].queue.pool();
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
        if (headers - EthHdr.LEN + payload > mtu || headers + payload > frameCapacity) {
            return SendResult.SLOW_PATH;
        }
        UmemByteBuf inPlace = null;
        QueueSocket qs = queues[txQueue];
        if (content instanceof UmemByteBuf u && u.headroom() >= headers) {
            for (QueueSocket candidate : queues) {
                if (candidate.queue.pool() == u.pool()) {
                    qs = candidate;
                    inPlace = u;
                    break;
                }
            }
        }
        if (!reserveTxSlot(qs)) {
            counters.txRingFull++;
            return SendResult.NO_ROOM;
        }
        UmemFramePool pool = qs.queue.pool();
        MemorySegment region = pool.umem().region();
        long frame;
        int head;
        if (inPlace != null) {
            inPlace.retain();
            pool.sendInPlace(inPlace);
            frame = inPlace.frameAddress();
            head = inPlace.readerIndex() - headers;
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
        qs.txPackets++;
        txPackets++;
        txBytes += payload;
        return SendResult.QUEUED;
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
        if (txFramesPool != pool && txFrameCount > 0) {
            returnTxFrames();
        }
        if (txFrameCount == 0) {
            txFramesPool = pool;
            pool.lock().lock();
            try {
                while (txFrameCount < TX_BATCH) {
                    long f = pool.allocateTxFrame();
                    if (f < 0) {
                        break;
                    }
                    txFrames[txFrameCount++] = f;
                }
            } finally {
                pool.lock().unlock();
            }
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
            txPackets = 0;
            txBytes = 0;
            txZeroCopy = 0;
        }
        boolean[] mine = owned;
        for (int q = 0; q < queues.length; q++) {
            QueueSocket qs = queues[q];
            if (qs.txUsed > 0) {
                publish(qs);
                kick(qs);
            }
            // another channel's queue (SO_REUSEPORT) only while our own frames may be in its completions
            if (qs.txOutstanding || mine[q]) {
                reap(qs);
            }
        }
        if (txFrameCount > 0) {
            returnTxFrames();
        }
    }

    private void returnTxFrames() {
        UmemFramePool pool = txFramesPool;
        pool.lock().lock();
        try {
            while (txFrameCount > 0) {
                pool.unallocateTxFrame(txFrames[--txFrameCount]);
            }
        } finally {
            pool.lock().unlock();
        }
    }

    private static void publish(QueueSocket qs) {
        qs.xsk.tx().submit(qs.txUsed);
        qs.txUsed = 0;
        qs.txReserved = 0;
        qs.txOutstanding = true;
    }

    /**
     * Kicks until the kernel has taken everything off the TX ring: in copy mode each kick sends a
     * bounded batch synchronously (32 frames, or the TX ring with XDP_MAX_TX_SKB_BUDGET).
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
        UmemFramePool pool = qs.queue.pool();
        pool.lock().lock();
        try {
            int n = pool.reapCompletions(qs.queue.anchor().completion(), qs.queue.anchor().completion().size());
            if (n == 0 && qs.xsk.tx().entries() == 0) {
                qs.txOutstanding = false;
            }
        } finally {
            pool.lock().unlock();
        }
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
        // the group's other channels take over this one's queues before its sockets go
        iface.leave(port, boundIp, group, membership);
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
            pool.lock().lock();
            try {
                pool.receivedLocked(drained);
            } finally {
                pool.lock().unlock();
            }
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
