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
import org.nettyxdp.socket.BindBusyException;
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
import java.util.ArrayList;
import java.util.List;
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
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpFastPath.class);
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
        /** Frames were published here and the TX ring was not yet seen empty after a reap. */
        boolean txOutstanding;
        /** Datagrams received from and queued on this queue (event-loop confined; read on the loop). */
        long rxPackets;
        long txPackets;

        QueueSocket(XskQueue queue, XdpSocket xsk) {
            this.queue = queue;
            this.xsk = xsk;
            // the queue's geometry, which the first channel on it chose, not necessarily this one's
            this.packet = new XdpPacket(queue.region(), queue.frameSize());
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
    /** The addresses of the channel's steering entries with {@link #port} (wildcards: one per family). */
    private final List<InetAddress> steered;
    private final int boundIpv4;
    private final byte[] boundIpv6;
    /** Whether datagrams of each family are the channel's (an IPv6 channel takes IPv4 when dual-stack). */
    private final boolean accept4;
    private final boolean accept6;
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
    /** Every queue takes and sends descriptor chains ({@code XDP_USE_SG}, program with frags). */
    private final boolean multiBuffer;
    /** Frames the application may hold before RX copies; from the option and the shared UMEM, per batch. */
    private int copyThreshold;

    /** The multi-buffer packet being received (RX) or sent (TX) right now. */
    private final FrameChain chain;
    private final int frameSize;
    private final long[] txFrames = new long[TX_BATCH];
    private final long[] chainFrames = new long[FrameChain.MAX_TX_FRAGMENTS];
    private final FrameSpans spans = new FrameSpans(FrameChain.MAX_TX_FRAGMENTS);
    private int txFrameCount;
    /** The pool {@link #txFrames} came from. */
    private UmemFramePool txFramesPool;
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

    private XdpFastPath(XdpInterface iface, InetSocketAddress local, InetAddress boundIp,
                        List<InetAddress> steered, QueueSocket[] queues, FastPathSettings settings,
                        boolean multiBuffer) throws IOException {
        this.multiBuffer = multiBuffer;
        this.iface = iface;
        this.owned = new boolean[queues.length];
        this.port = local.getPort();
        this.local = local;
        this.steered = steered;
        this.boundIpv4 = boundIp instanceof Inet4Address ? toInt(boundIp.getAddress()) : 0;
        this.boundIpv6 = boundIp instanceof Inet6Address ? boundIp.getAddress() : null;
        this.accept4 = steered.stream().anyMatch(a -> a instanceof Inet4Address);
        this.accept6 = steered.stream().anyMatch(a -> a instanceof Inet6Address);
        this.queues = queues;
        this.tunables = settings.tunables();
        LinkInfo link = iface.link();
        this.nextHops = new NextHops(link.index(), link.isLoopback());
        long ifMac = link.mac() == null ? 0 : link.mac().toLong();
        this.mtu = link.mtu();
        this.parser = new UdpFrameParser(port, boundIpv4, boundIpv6, accept4, accept6, ifMac,
                !link.isLoopback() && ifMac != 0, link.index(), link.isLoopback(), iface::locals);
        this.writer = new UdpFrameWriter(port, boundIpv4, boundIpv6, ifMac);
        this.frameCapacity = settings.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM;
        this.frameLimit = settings.umem().maxRxFrameLength();
        this.chain = new FrameChain(frameCapacity);
        this.frameSize = settings.umem().frameSize();
    }

    /** Longest {@link #open} waits for busy queues, parking the calling thread between attempts. */
    private static final long OPEN_BUSY_WAIT_NANOS = 2_000_000_000L;

    /**
     * {@link #open(LinkInfo, InetSocketAddress, InetAddress, boolean, FastPathSettings)} of a dual-stack
     * channel ({@code IPV6_V6ONLY} off, the companion socket's setting): an IPv6 wildcard channel also
     * takes IPv4.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                   FastPathSettings settings) throws IOException {
        return open(link, local, boundIp, false, settings);
    }

    /**
     * Binds a socket on every RX queue of {@code link} and steers UDP port {@code port} to them, for
     * what the kernel would deliver to the channel's socket (see {@link #opening(LinkInfo,
     * InetSocketAddress, InetAddress, boolean, FastPathSettings)}). A queue still busy from a socket
     * closed moments ago is waited for, parking this thread (at most 2 s): off the event loop only; an
     * event loop uses {@link #opening} and retries later instead.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp, boolean v6Only,
                                   FastPathSettings settings) throws IOException {
        Opening opening = opening(link, local, boundIp, v6Only, settings);
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

    /** {@link #opening(LinkInfo, InetSocketAddress, InetAddress, boolean, FastPathSettings)} of a dual-stack channel. */
    public static Opening opening(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                  FastPathSettings settings) throws IOException {
        return opening(link, local, boundIp, false, settings);
    }

    /**
     * Starts opening a fast path as {@link #open} does, without ever waiting: see {@link Opening}.
     * It steers what the kernel would deliver to the channel's socket: datagrams to {@code boundIp}, or
     * with {@code boundIp} null (the wildcard) to any local address of the channel's family
     * ({@code local}'s; an IPv6 channel also IPv4 unless {@code v6Only}). Where another process's socket
     * shares the port ({@link PortSharing}) and the kernel would give it some of those datagrams, that
     * part stays with the kernel; if nothing is left, {@link PortTakenException} says why. Takes the
     * interface's steering (attaching the program on first use).
     */
    public static Opening opening(LinkInfo link, InetSocketAddress local, InetAddress boundIp, boolean v6Only,
                                  FastPathSettings settings) throws IOException {
        List<InetAddress> steered = steeredAddresses(local, boundIp, v6Only);
        return new Opening(link, local, boundIp, steered, settings, XdpInterface.acquire(link, settings.attachMode()));
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
        /** The addresses of the channel's steering entries (see {@link #steeredAddresses}), less shared ones. */
        private List<InetAddress> steered;
        private final FastPathSettings settings;
        private final XdpInterface iface;
        private final XdpSocketConfig socketConfig;
        private final QueueSocket[] queues;
        private boolean checked;
        private boolean finished;

        private Opening(LinkInfo link, InetSocketAddress local, InetAddress boundIp, List<InetAddress> steered,
                        FastPathSettings settings, XdpInterface iface) {
            this.link = link;
            this.local = local;
            this.boundIp = boundIp;
            this.steered = steered;
            this.settings = settings;
            this.iface = iface;
            UmemConfig umem = settings.umem();
            int ring = settings.ringSize();
            this.socketConfig = new XdpSocketConfig(link.index(), 0, ring, ring,
                    Math.max(ring, Math.min(umem.frameCount() / 2, 65536)), Math.max(ring, 2048),
                    settings.zeroCopy(), true, iface.hasFrags());
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
            try {
                if (!checked) {
                    steered = unshared(local.getPort(), steered, local.getAddress() instanceof Inet6Address);
                    checked = true;
                }
                UmemConfig umem = settings.umem();
                for (int q = 0; q < queues.length; q++) {
                    if (queues[q] == null) {
                        queues[q] = openQueue(q, umem);
                    }
                }
                boolean multiBuffer = iface.hasFrags();
                for (QueueSocket qs : queues) {
                    multiBuffer &= qs.queue.isMultiBuffer();
                }
                XdpFastPath fp = new XdpFastPath(iface, local, boundIp, steered, queues, settings, multiBuffer);
                // the port's group (SO_REUSEPORT: shared with other channels) points the queues at us;
                // multi-buffer: every frame the interface takes fits a chain, else longer ones go to the kernel
                fp.group = iface.join(local.getPort(), steered, settings.reusePort(),
                        multiBuffer ? 0 : umem.maxRxFrameLength(), fp.membership);
                finished = true;
                logger.info("{} on {}: XDP {}, {}", local, link.name(),
                        iface.attachedMode() == XdpMode.DRV ? "native" : "generic", fp.describeQueues());
                return fp;
            } catch (BindBusyException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                release();
                throw e;
            }
        }

        private QueueSocket openQueue(int q, UmemConfig umem) throws IOException {
            XskQueue queue = XskQueue.acquire(link.index(), q, umem, socketConfig, settings.tunables().allocator());
            try {
                if (settings.zeroCopy() == ZeroCopyMode.REQUIRED && !queue.isZeroCopy()) {
                    throw new IOException("XdpChannelOption.ZERO_COPY is REQUIRED but queue " + q + " of "
                            + link.name() + " is bound in copy mode (the kernel chose it for an earlier channel,"
                            + " or the driver has no zero-copy support); use XdpZeroCopy.AUTO to accept it");
                }
                XdpSocket xsk = queue.openSocket(socketConfig.withQueueId(q));
                try {
                    if (settings.busyPollBudget() > 0) {
                        preferBusyPoll(xsk, settings.busyPollBudget());
                    }
                    raiseTxBudget(xsk, settings.ringSize());
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
                release();
            }
        }

        private void release() {
            finished = true;
            // join() undoes its own steering when it fails: only sockets, queues and the interface remain
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

    /**
     * {@code steered} less what another process's socket shares ({@link PortSharing}), logged; throws
     * {@link PortTakenException} when nothing is left.
     */
    private static List<InetAddress> unshared(int port, List<InetAddress> steered, boolean ipv6) throws IOException {
        List<String> shared = new ArrayList<>();
        List<InetAddress> unshared = PortSharing.unshared(port, steered, ipv6, shared);
        if (unshared.isEmpty()) {
            throw new PortTakenException(String.join("; ", shared));
        }
        for (String why : shared) {
            logger.info("{}; that part of the port stays on the kernel socket", why);
        }
        return unshared;
    }

    /** The addresses of the channel's steering entries: the bound one, or the wildcard of each family. */
    private static List<InetAddress> steeredAddresses(InetSocketAddress local, InetAddress boundIp, boolean v6Only)
            throws IOException {
        if (boundIp != null && !boundIp.isAnyLocalAddress()) {
            return List.of(boundIp);
        }
        InetAddress any4 = InetAddress.getByAddress(new byte[4]);
        if (local.getAddress() instanceof Inet6Address) {
            InetAddress any6 = InetAddress.getByAddress(new byte[16]);
            return v6Only ? List.of(any6) : List.of(any6, any4);
        }
        return List.of(any4);
    }

    /**
     * Re-reads the host's addresses (rtnetlink) for every interface the process steers on: what the
     * programs take as local destinations and what the channels drop as their own (martian) sources.
     * Addresses are read when a channel binds; call this when they change later (an address
     * notification). Any thread; may block on netlink.
     */
    public static void refreshLocalAddresses() {
        XdpInterface.refreshAll();
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

    /** The interface index this fast path runs on. */
    public int ifindex() {
        return iface.link().index();
    }

    /** True if {@code buf} is a frame of one of this fast path's UMEMs. */
    boolean owns(UmemByteBuf buf) {
        for (QueueSocket qs : queues) {
            if (qs.queue.pool().owns(buf)) {
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

    /**
     * Re-reads the local addresses of this fast path's interface (its steering program's map and the
     * martian filter) from rtnetlink in the calling thread's namespace. Any thread; blocks on netlink.
     */
    void refreshInterfaceAddresses() throws IOException {
        iface.refreshLocalAddresses();
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
        if (steered.size() != 1 || steered.get(0).isAnyLocalAddress() || present == addressPresent || released) {
            return;
        }
        addressPresent = present;
        if (present) {
            iface.addPort(port, steered, group.slot(), multiBuffer ? 0 : frameLimit);
        } else {
            iface.removePort(port, steered.get(0), group.slot());
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
            try {
                rx.release(taken);
                qs.rxPackets += packets;
                counters.rxPackets += packets;
                counters.rxBytes += bytes;
                counters.rxCopied += copied;
                counters.rxChains += chains;
                qs.queue.refill(qs.xsk.fill().size());
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
                pool.drop(rx.addr(i));
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
    private ByteBuf parseChain(QueueSocket qs, UmemFramePool pool, RxRing rx, int from, int k) {
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
                pool.drop(chain.addr(i));
            }
            return null;
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

    /**
     * Takes the frame of RX descriptor {@code (addr, len)} back from the kernel. False after counting an
     * {@link DropReason#INVALID_DESCRIPTOR} drop when the descriptor fails validation; its frame then
     * goes back to the pool if (and only if) it is one the kernel had, so nothing is freed twice.
     */
    private boolean takeDescriptor(UmemFramePool pool, long addr, int len) {
        int verdict = RxDescriptor.check(addr, len, (long) pool.frameCount() * frameSize(pool), frameSize(pool));
        boolean kernels = verdict != RxDescriptor.NOT_A_FRAME && pool.inKernel(addr);
        if (verdict == RxDescriptor.VALID && kernels) {
            return true;
        }
        counters.drop(DropReason.INVALID_DESCRIPTOR);
        if (kernels) {
            pool.drop(addr);
        }
        return false;
    }

    private static int frameSize(UmemFramePool pool) {
        return pool.frameCapacity() + XdpPacket.XDP_PACKET_HEADROOM;
    }

    /**
     * Test access: what {@link #receive} does with descriptor {@code (addr, len)} on queue {@code q},
     * up to the parse; the frame, if valid, is returned to the pool. Event loop (or test) thread.
     */
    boolean takeDescriptorForTest(int q, long addr, int len) {
        UmemFramePool pool = queues[q].queue.pool();
        boolean valid = takeDescriptor(pool, addr, len);
        if (valid) {
            pool.drop(addr);
        }
        return valid;
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
        UmemFramePool pool = queues[txQueue].queue.pool();
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
        if (v4 ? !accept4 || boundIpv6 != null : !accept6 || boundIpv4 != 0) {
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
        QueueSocket qs = queues[txQueue];
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
        qs.txPackets++;
        txPackets++;
        txBytes += payload;
        return SendResult.QUEUED;
    }

    /**
     * Sends a datagram larger than one frame as a descriptor chain ({@code XDP_PKT_CONTD} on all but the
     * last): over the frames it lies in where it can ({@link #sendChainInPlace}), else copied once into
     * as many free frames as it needs, the headers in the first. More fragments than the kernel builds
     * into one packet take the kernel socket.
     */
    private SendResult sendChain(ByteBuf content, boolean v4, NextHops.Hop hop, int port, int headers, int payload) {
        if (sendChainInPlace(content, v4, hop, port, headers, payload)) {
            return SendResult.QUEUED;
        }
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
        qs.txPackets++;
        txPackets++;
        txBytes += payload;
        txChainCount++;
        return SendResult.QUEUED;
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
                if (candidate.queue.pool().owns(first)) {
                    qs = candidate;
                    break;
                }
            }
            int k = s.count();
            if (qs == null) {
                return false;
            }
            UmemFramePool pool = qs.queue.pool();
            for (int i = 1; i < k; i++) {
                if (!pool.owns(s.buffer(i))) {
                    return false;
                }
            }
            if (!reserveTxSlots(qs, k)) {
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
            MemorySegment region = qs.queue.region();
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
        if (txFramesPool != pool && txFrameCount > 0) {
            txFramesPool.cancelSend(txFrames, txFrameCount);
            txFrameCount = 0;
        }
        if (txFrameCount == 0) {
            txFramesPool = pool;
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
        boolean[] mine = owned;
        for (int q = 0; q < queues.length; q++) {
            QueueSocket qs = queues[q];
            if (qs.txUsed > 0) {
                publish(qs);
                kick(qs);
            }
            // another channel's queue (SO_REUSEPORT) only while our own frames may still be on it
            if (qs.txOutstanding || mine[q]) {
                reap(qs);
            }
        }
        if (txFrameCount > 0) {
            txFramesPool.cancelSend(txFrames, txFrameCount);
            txFrameCount = 0;
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
        int invalid = qs.queue.reapCompletions();
        if (invalid > 0) {
            counters.drop(DropReason.INVALID_DESCRIPTOR, invalid);
        }
        if (qs.xsk.tx().entries() == 0) {
            qs.txOutstanding = false;
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
            // (the group's other channels take this one's queues over, or the last one removes the port)
            iface.leave(port, steered, group, membership);
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
    }

    static int toInt(byte[] a) {
        return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
    }
}
