package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.BindBusyException;
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
import java.util.concurrent.locks.LockSupport;


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

        QueueSocket(XskQueue queue, XdpSocket xsk) {
            this.queue = queue;
            this.xsk = xsk;
            // the queue's geometry, which the first channel on it chose, not necessarily this one's
            this.packet = new XdpPacket(queue.pool().umem().region(), queue.pool().umem().config().frameSize());
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
    /** The link's MTU, followed from {@link #linkChanged}. */
    private int mtu;
    /** False while the bound address is not configured on the interface: nothing is steered or sent. */
    private boolean addressPresent = true;
    private final UdpFrameParser parser;
    private final UdpFrameWriter writer;
    private final int frameCapacity;
    /** The longest frame the program steers here. */
    private final int frameLimit;
    /** When the fast path was opened ({@link System#nanoTime()}): older reports of the link predate it. */
    private final long openedNanos = System.nanoTime();
    /** Frames the application may hold before RX copies; from the option and the shared UMEM, per batch. */
    private int copyThreshold;

    private final long[] txFrames = new long[TX_BATCH];
    private int txFrameCount;
    /** TX counts since the last {@link #flush()}, published to the channel's counters there. */
    private long txPackets;
    private long txBytes;
    private long txZeroCopy;
    /** Set once {@link #close()} was asked for: no new work starts. */
    private boolean closed;
    /** Nesting depth of {@link #receive} and {@link #flush}: rings must stay mapped while positive. */
    private int busy;
    private boolean released;
    /** Frames of the current RX batch that the kernel really had (see {@link UmemFramePool#takeFromKernel}). */
    private int fromKernel;

    private XdpFastPath(XdpInterface iface, int slot, InetSocketAddress local, InetAddress boundIp,
                        QueueSocket[] queues, FastPathSettings settings) {
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
        long ifMac = link.mac() == null ? 0 : link.mac().toLong();
        this.mtu = link.mtu();
        this.parser = new UdpFrameParser(port, boundIpv4, boundIpv6, ifMac, !link.isLoopback() && ifMac != 0,
                link.index());
        this.writer = new UdpFrameWriter(port, boundIpv4, boundIpv6, ifMac);
        this.frameCapacity = settings.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM;
        this.frameLimit = settings.umem().maxRxFrameLength();
    }

    /** Longest {@link #open} waits for busy queues, parking the calling thread between attempts. */
    private static final long OPEN_BUSY_WAIT_NANOS = 2_000_000_000L;

    /**
     * Binds a socket on every RX queue of {@code link} and steers UDP port {@code port} to them.
     * {@code boundIp} is null for the wildcard address. A queue still busy from a socket closed moments
     * ago is waited for, parking this thread (at most 2 s): off the event loop only; an event loop uses
     * {@link #opening} and retries later instead.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                   FastPathSettings settings) throws IOException {
        Opening opening = opening(link, local, boundIp, settings);
        long deadline = System.nanoTime() + OPEN_BUSY_WAIT_NANOS;
        for (;;) {
            try {
                return opening.attempt();
            } catch (BindBusyException e) {
                if (System.nanoTime() - deadline > 0) {
                    opening.abandon();
                    throw e;
                }
                LockSupport.parkNanos(e.retryAfterNanos());
            }
        }
    }

    /**
     * Starts opening a fast path as {@link #open} does, without ever waiting: see {@link Opening}.
     * Takes the interface's steering (attaching the program on first use).
     */
    public static Opening opening(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                  FastPathSettings settings) throws IOException {
        return new Opening(link, local, boundIp, settings, XdpInterface.acquire(link, settings.attachMode()));
    }

    /**
     * A fast path being opened queue by queue, never blocking: {@link #attempt()} binds the sockets not
     * bound yet and, when a queue is still busy (its previous socket closed moments ago), throws a
     * {@link BindBusyException} keeping what it has, to be called again later; or {@link #abandon()}
     * gives everything back. Event-loop confined.
     */
    public static final class Opening {
        private final LinkInfo link;
        private final InetSocketAddress local;
        private final InetAddress boundIp;
        private final FastPathSettings settings;
        private final XdpInterface iface;
        private final XdpSocketConfig socketConfig;
        private final QueueSocket[] queues;
        private int slot = -1;
        private boolean finished;

        private Opening(LinkInfo link, InetSocketAddress local, InetAddress boundIp, FastPathSettings settings,
                        XdpInterface iface) {
            this.link = link;
            this.local = local;
            this.boundIp = boundIp;
            this.settings = settings;
            this.iface = iface;
            UmemConfig umem = settings.umem();
            int ring = settings.ringSize();
            this.socketConfig = new XdpSocketConfig(link.index(), 0, ring, ring,
                    Math.max(ring, Math.min(umem.frameCount() / 2, 65536)), Math.max(ring, 2048),
                    settings.zeroCopy(), true, false);
            this.queues = new QueueSocket[iface.queues()];
        }

        /**
         * Binds what is not bound yet and, once every queue has its socket, steers the port to them.
         *
         * @throws BindBusyException a queue is still busy: nothing is given back; attempt again later
         * @throws IOException       any other failure, after giving everything back
         */
        public XdpFastPath attempt() throws IOException {
            if (finished) {
                throw new IllegalStateException("already opened or abandoned");
            }
            boolean portAdded = false;
            try {
                if (slot < 0) {
                    slot = iface.allocateSlot();
                }
                UmemConfig umem = settings.umem();
                for (int q = 0; q < queues.length; q++) {
                    if (queues[q] == null) {
                        queues[q] = openQueue(q, umem);
                        iface.setSocket(slot, q, queues[q].xsk.fd());
                    }
                }
                iface.addPort(local.getPort(), boundIp, slot, umem.maxRxFrameLength());
                portAdded = true;
                XdpFastPath fp = new XdpFastPath(iface, slot, local, boundIp, queues, settings);
                finished = true;
                return fp;
            } catch (BindBusyException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                release(portAdded);
                throw e;
            }
        }

        private QueueSocket openQueue(int q, UmemConfig umem) throws IOException {
            XskQueue queue = XskQueue.acquire(link.index(), q, umem, socketConfig, settings.tunables().allocator());
            try {
                XdpSocket xsk = queue.openSocket(socketConfig.withQueueId(q));
                try {
                    if (settings.busyPollBudget() > 0) {
                        preferBusyPoll(xsk, settings.busyPollBudget());
                    }
                    return new QueueSocket(queue, xsk);
                } catch (IOException | RuntimeException e) {
                    xsk.close();
                    throw e;
                }
            } catch (IOException | RuntimeException e) {
                queue.release();
                throw e;
            }
        }

        /** Gives back every socket, queue and the interface; idempotent, a no-op once opened. */
        public void abandon() {
            if (!finished) {
                release(false);
            }
        }

        private void release(boolean portAdded) {
            finished = true;
            try {
                if (slot >= 0) {
                    iface.removeChannel(portAdded ? local.getPort() : -1, boundIp, slot);
                }
            } finally {
                for (int q = 0; q < queues.length; q++) {
                    if (queues[q] != null) {
                        queues[q].xsk.close();
                        queues[q].queue.release();
                    } else {
                        XskQueue.discardSpare(link.index(), q);
                    }
                }
                iface.release();
            }
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

    /** The interface index this fast path runs on. */
    public int ifindex() {
        return iface.link().index();
    }

    /** True if {@code buf} is a frame of one of this fast path's UMEMs. */
    boolean owns(UmemByteBuf buf) {
        for (QueueSocket qs : queues) {
            if (qs.queue.pool() == buf.pool()) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------- network state (event loop)

    /**
     * Follows a change of the interface as the kernel reports it: its MAC is the frames' source and
     * the destination RX accepts, its MTU bounds what TX sends. Next hops are looked up again.
     */
    void linkChanged(LinkInfo link) {
        long mac = link.mac() == null ? 0 : link.mac().toLong();
        parser.setInterfaceMac(mac, !link.isLoopback() && mac != 0);
        writer.setInterfaceMac(mac);
        mtu = link.mtu();
        if (link.isUp()) {
            // while the link is down nothing leaves it anyway: the hops stay, and what is queued waits
            // for the link (or the TX drain timeout) instead of leaving by another route
            nextHops.clear();
        }
    }

    /** When this fast path was opened, as {@link System#nanoTime()}. */
    long openedNanos() {
        return openedNanos;
    }

    /** The interface was deleted or its program detached: later channels attach afresh. */
    void defunct() {
        iface.defunct();
    }

    /** Forgets the cached next hops: a neighbour or route changed. */
    void invalidateNextHops() {
        nextHops.clear();
    }

    /**
     * Follows the bound address: while it is not configured here, its datagrams are not steered
     * (the kernel decides about them, as for any address not ours) and nothing is sent from it.
     * No-op for the wildcard address.
     */
    void setAddressPresent(boolean present) throws IOException {
        if (boundIp == null || present == addressPresent || released) {
            return;
        }
        addressPresent = present;
        if (present) {
            iface.addPort(port, boundIp, slot, frameLimit);
        } else {
            iface.removePort(port, boundIp, slot);
        }
        nextHops.clear();
    }

    /** Whether the bound address (if any) is configured on the interface. */
    boolean addressPresent() {
        return addressPresent;
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
        fromKernel = 0;
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
            try {
                rx.release(taken);
                counters.rxPackets += packets;
                counters.rxBytes += bytes;
                counters.rxCopied += copied;
                pool.lock().lock();
                try {
                    pool.receivedLocked(fromKernel);
                    pool.refill(qs.xsk.fill(), qs.xsk.fill().size());
                } finally {
                    pool.lock().unlock();
                }
                if (qs.xsk.fill().needsWakeup()) {
                    qs.xsk.wakeupRx();
                }
            } finally {
                // whatever failed above, a close asked for during the batch still happens
                if (--busy == 0 && closed) {
                    release();
                }
            }
        }
        return taken;
    }

    /** Validates one frame; returns its payload (owning the frame, or a copy), or null after counting a drop. */
    private ByteBuf parse(QueueSocket qs, UmemFramePool pool, long addr, int len, int options) {
        if (!takeDescriptor(pool, addr, len)) {
            return null;
        }
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
     * Takes the frame of RX descriptor {@code (addr, len)} back from the kernel. False after counting an
     * {@link DropReason#INVALID_DESCRIPTOR} drop when the descriptor fails validation; its frame then
     * goes back to the pool if (and only if) it is one the kernel had, so nothing is freed twice.
     */
    private boolean takeDescriptor(UmemFramePool pool, long addr, int len) {
        int verdict = RxDescriptor.check(addr, len, pool.umem().region().byteSize(),
                pool.umem().config().frameSize());
        boolean kernels = verdict != RxDescriptor.NOT_A_FRAME && pool.takeFromKernel(addr);
        if (kernels) {
            fromKernel++;
        }
        if (verdict == RxDescriptor.VALID && kernels) {
            return true;
        }
        counters.drop(DropReason.INVALID_DESCRIPTOR);
        if (kernels) {
            pool.drop(addr);
        }
        return false;
    }

    /**
     * Test access: what {@link #receive} does with descriptor {@code (addr, len)} on queue {@code q},
     * up to the parse; the frame, if valid, is returned to the pool. Event loop (or test) thread.
     */
    boolean takeDescriptorForTest(int q, long addr, int len) {
        UmemFramePool pool = queues[q].queue.pool();
        fromKernel = 0;
        boolean valid = takeDescriptor(pool, addr, len);
        if (valid) {
            pool.drop(addr);
        }
        pool.lock().lock();
        try {
            pool.receivedLocked(fromKernel);
        } finally {
            pool.lock().unlock();
        }
        return valid;
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
        UmemFramePool pool = queues[0].queue.pool();
        return pool.allocate(FRAME_BUFFER_HEADROOM, pool.frameCount() / 4);
    }

    /**
     * Queues {@code content} to {@code recipient} (not yet published: see {@link #flush()}). Does not
     * take ownership of {@code content}; the caller releases it as usual.
     */
    public SendResult send(ByteBuf content, InetSocketAddress recipient) {
        if (closed || !addressPresent) {
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
        QueueSocket qs = queues[0];
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
        if (txFrameCount == 0) {
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
        for (QueueSocket qs : queues) {
            if (qs.txUsed > 0) {
                publish(qs);
                kick(qs);
            }
            reap(qs);
        }
        if (txFrameCount > 0) {
            UmemFramePool pool = queues[0].queue.pool();
            pool.lock().lock();
            try {
                while (txFrameCount > 0) {
                    pool.unallocateTxFrame(txFrames[--txFrameCount]);
                }
            } finally {
                pool.lock().unlock();
            }
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

    private void reap(QueueSocket qs) {
        UmemFramePool pool = qs.queue.pool();
        pool.lock().lock();
        try {
            long invalid = pool.invalidCompletions();
            pool.reapCompletions(qs.queue.anchor().completion(), qs.queue.anchor().completion().size());
            if (pool.invalidCompletions() != invalid) {
                counters.drop(DropReason.INVALID_DESCRIPTOR, pool.invalidCompletions() - invalid);
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
        try {
            flush();
        } finally {
            released = true;
            // first of all, and whatever fails later: no datagram may be steered to sockets nobody reads
            iface.removeChannel(port, boundIp, slot);
            releaseQueues();
        }
    }

    private void releaseQueues() {
        try {
            for (QueueSocket qs : queues) {
                try {
                    drainRx(qs);
                    reap(qs);
                } finally {
                    qs.xsk.close();
                    qs.queue.release();
                }
            }
        } finally {
            nextHops.close();
            iface.release();
        }
    }

    /** Returns every frame still waiting in {@code qs}'s RX ring to the pool, counted as CLOSED drops. */
    private void drainRx(QueueSocket qs) {
        RxRing rx = qs.xsk.rx();
        UmemFramePool pool = qs.queue.pool();
        int n;
        fromKernel = 0;
        while ((n = rx.peek(256)) > 0) {
            for (int i = 0; i < n; i++) {
                long addr = rx.addr(i);
                if (takeDescriptor(pool, addr, rx.len(i))) {
                    pool.drop(addr);
                    counters.drop(DropReason.CLOSED);
                }
            }
            rx.release(n);
        }
        pool.lock().lock();
        try {
            pool.receivedLocked(fromKernel);
        } finally {
            pool.lock().unlock();
        }
    }

    static int toInt(byte[] a) {
        return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
    }
}
