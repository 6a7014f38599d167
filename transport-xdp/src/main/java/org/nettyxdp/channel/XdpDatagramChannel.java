package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.socket.XdpStatistics;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.xsk.FastPathBinder;
import org.nettyxdp.xsk.FastPathSet;
import org.nettyxdp.xsk.PortTakenException;
import org.nettyxdp.xsk.XdpFastPath;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * A Netty {@link DatagramChannel} that moves UDP over AF_XDP.
 *
 * <p>Bound to an address, it attaches a steering program to the interface owning that address (for
 * the wildcard address: to every interface XDP can attach to, or to {@link XdpChannelOption#INTERFACE};
 * for an implicit bind: to the interface routing to the peer) and binds an AF_XDP socket on each of
 * its RX queues: datagrams for its port then bypass the kernel's UDP stack, arriving as zero-copy
 * {@link org.nettyxdp.buffer.UmemByteBuf}s, and replies leave as raw frames. Everything else on the
 * host keeps working: the program passes all other traffic to the kernel.
 *
 * <p>Received {@link DatagramPacket}s (and their content) belong to the UMEM frame they arrived in and
 * are reused for a later datagram in that frame: do not use one after releasing it.
 *
 * <p>Each channel also owns a companion kernel UDP socket bound to the same address and port. It
 * reserves the port, carries what the fast path cannot (IP fragments, unresolved neighbours, other
 * interfaces, multicast, datagrams larger than a frame), holds the standard socket options and reports
 * ICMP errors. A {@code FAST_PATH=false} channel works through the companion socket alone, exactly
 * like a NIO channel. The fast path follows the network (addresses, MAC, MTU, neighbours, interfaces
 * deleted or re-created) while the channel lives.
 *
 * <pre>{@code
 * EventLoopGroup group = new XdpEventLoopGroup(1);
 * new Bootstrap().group(group).channel(XdpDatagramChannel.class)
 *     .handler(new EchoHandler())
 *     .bind(new InetSocketAddress("10.0.0.1", 9999)).sync();
 * }</pre>
 */
public final class XdpDatagramChannel extends MulticastDatagramChannel {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpDatagramChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(true, 64);

    private final XdpDatagramChannelConfig config;
    private final CompanionSocket companion;
    private final XdpChannelMetrics.SlowPathCounters counters = new XdpChannelMetrics.SlowPathCounters();
    private final DatagramWriter writer;
    private FastPathSet fastPath;
    private IoRegistration registration;
    private volatile InetSocketAddress local;
    private volatile InetSocketAddress remote;
    private volatile boolean open = true;
    private volatile boolean bound;
    private volatile boolean connected;
    private boolean readPending;
    /** An implicit bind (first write, connect without bind) was given its chance of a fast path. */
    private boolean implicitTried;
    private boolean reading;
    private int companionEvents = -1;
    private int xskEvents = -1;

    /** A dual-stack channel (IPv6 socket accepting IPv4), as NIO's default, or IPv4 when the host has no IPv6. */
    public XdpDatagramChannel() {
        this(defaultFamily());
    }

    /** A channel of the given family; {@link SocketProtocolFamily#INET6} channels are dual-stack. */
    public XdpDatagramChannel(SocketProtocolFamily family) {
        super();
        try {
            this.companion = new CompanionSocket(family == SocketProtocolFamily.INET6);
        } catch (SyscallException e) {
            throw new io.netty.channel.ChannelException("cannot open the companion UDP socket: " + e.getMessage(), e);
        }
        this.config = new XdpDatagramChannelConfig(this);
        this.writer = new DatagramWriter(companion, counters, config::getTxDrainTimeoutMillis, () -> {
            if (open) {
                ((XdpUnsafe) unsafe()).flush0Now();
            }
        });
    }

    private static SocketProtocolFamily defaultFamily() {
        boolean ipv6 = !Boolean.getBoolean("java.net.preferIPv4Stack") && Files.exists(Path.of("/proc/net/if_inet6"));
        return ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
    }

    CompanionSocket companion() {
        return companion;
    }

    /**
     * Always true: a {@link io.netty.channel.unix.SegmentedDatagramPacket} written to this channel is
     * sent as its segments, each its own datagram (as epoll does with {@code UDP_SEGMENT}), so QUIC
     * stacks can hand over a burst in one write.
     */
    public static boolean isSegmentedDatagramPacketSupported() {
        return true;
    }

    /** True if datagrams for this channel's port take the AF_XDP fast path on {@link #fastPathInterface()}. */
    public boolean isFastPathActive() {
        FastPathSet fp = fastPath;
        return fp != null && fp.isActive();
    }

    /** The (first) interface the fast path runs on, or null when it does not run. */
    public String fastPathInterface() {
        List<String> names = fastPathInterfaces();
        return names.isEmpty() ? null : names.get(0);
    }

    /**
     * Every interface the fast path runs on now: one for a channel bound to an address or with
     * {@link XdpChannelOption#INTERFACE}, each interface XDP could attach to for a wildcard bind.
     */
    public List<String> fastPathInterfaces() {
        FastPathSet fp = fastPath;
        return fp == null ? List.of() : fp.interfaces();
    }

    /**
     * A buffer to write one outgoing datagram's payload into. On a channel with a fast path it is a
     * {@link org.nettyxdp.buffer.UmemByteBuf} over a free UMEM frame, with headroom for the headers:
     * writing it sends the frame itself, with no copy. Its capacity is the frame's (at most
     * {@link #maxFramePayload()} bytes of payload). Without a fast path, or when no frame is spare, it is
     * an ordinary direct buffer from the channel's allocator.
     */
    public ByteBuf frameBuffer() {
        FastPathSet fp = fastPath;
        ByteBuf buf = fp == null ? null : fp.frameBuffer();
        return buf != null ? buf : alloc().directBuffer(maxFramePayload());
    }

    /** The largest payload a {@link #frameBuffer()} holds. */
    public int maxFramePayload() {
        return config.getUmem().frameSize() - org.nettyxdp.packet.XdpPacket.XDP_PACKET_HEADROOM
                - XdpFastPath.FRAME_BUFFER_HEADROOM;
    }

    /** A snapshot of this channel's counters. */
    public XdpChannelMetrics metrics() {
        FastPathSet fp = fastPath;
        XdpStatistics kernel = fp == null ? XdpStatistics.ZERO : fp.statistics();
        return XdpChannelMetrics.of(counters, fp == null ? null : fp.counters(), kernel,
                fp == null ? 0 : fp.losses(), XdpChannelMetrics.Modes.of(fp == null ? null : fp.first()));
    }

    /**
     * The RX queues of {@link #fastPathInterface()} steered to this channel now: all of them, unless
     * channels share the address and port through {@link XdpChannelOption#SO_REUSEPORT}, which split
     * them. Empty without a fast path (or for a channel that owns no queue: more channels than queues).
     * Any thread.
     */
    public int[] fastPathQueues() {
        XdpFastPath fp = fastPath == null ? null : fastPath.first();
        if (fp == null) {
            return new int[0];
        }
        int n = 0;
        int[] q = new int[fp.queueCount()];
        for (int i = 0; i < q.length; i++) {
            if (fp.ownsQueue(i)) {
                q[n++] = i;
            }
        }
        return java.util.Arrays.copyOf(q, n);
    }

    /** Datagrams received so far from each RX queue of the interface (event loop). */
    long[] fastPathRxByQueue() {
        XdpFastPath fp = fastPath == null ? null : fastPath.first();
        long[] r = new long[fp == null ? 0 : fp.queueCount()];
        for (int i = 0; i < r.length; i++) {
            r[i] = fp.rxPackets(i);
        }
        return r;
    }

    /** Datagrams sent so far on each TX queue of the interface (event loop). */
    long[] fastPathTxByQueue() {
        XdpFastPath fp = fastPath == null ? null : fastPath.first();
        long[] r = new long[fp == null ? 0 : fp.queueCount()];
        for (int i = 0; i < r.length; i++) {
            r[i] = fp.txPackets(i);
        }
        return r;
    }

    /**
     * Where the frames of each of the channel's UMEMs are (one per interface queue); empty without a
     * fast path. Exact when no datagram is moving, e.g. after a test's traffic has stopped.
     */
    public FrameAccounting[] frameAccounting() {
        FastPathSet fp = fastPath;
        return fp == null ? new FrameAccounting[0] : fp.accounting();
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public XdpDatagramChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && (bound || connected || config.getActiveOnOpen() && isRegistered());
    }

    @Override
    public boolean isConnected() {
        return connected;
    }

    @Override
    protected SocketAddress localAddress0() {
        InetSocketAddress l = local;
        if (l == null && open) {
            try {
                l = companion.localAddress();
            } catch (SyscallException e) {
                return null;
            }
            local = l;
        }
        return l;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remote;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop l && l.isCompatible(XdpUnsafe.class);
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new XdpUnsafe();
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        ((IoEventLoop) eventLoop()).register((XdpUnsafe) unsafe()).addListener(f -> {
            if (f.isSuccess()) {
                registration = (IoRegistration) f.getNow();
                companionEvents = -1;
                xskEvents = -1;
                updateInterest();
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    @Override
    protected void doDeregister() {
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        InetSocketAddress requested = (InetSocketAddress) localAddress;
        if (requested.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        InetAddress ip = requested.getAddress();
        if (companion.isIpv6() && ip instanceof Inet4Address && ip.isAnyLocalAddress()) {
            requested = new InetSocketAddress(InetAddress.getByAddress(new byte[16]), requested.getPort());
        }
        companion.bind(requested);
        local = companion.localAddress();
        if (config.isFastPath()) {
            // a failed bind leaves the channel inactive (Bootstrap then closes it); the kernel socket
            // keeps the port until the channel closes
            openFastPath(requested.getAddress());
        }
        bound = true;
    }

    /** Sets up AF_XDP for {@code ip} (wildcard: on INTERFACE, else on every interface) and the bound port. */
    private void openFastPath(InetAddress ip) throws IOException {
        try {
            fastPath = FastPathBinder.open(ip, config.getInterfaceName(), local, config.fastPathSettings(),
                    new NetworkFollower());
        } catch (PortTakenException e) {
            // steering is keyed by (port, address): another XDP channel of this process has exactly this
            // port and address on this interface (possible with SO_REUSEADDR/SO_REUSEPORT); this one
            // serves it through the kernel socket, like NIO
            logger.warn("{}: {}; this channel uses the kernel socket only", this, e.getMessage());
            return;
        }
        if (fastPath == null) {
            return;
        }
        xskEvents = -1;
        if (connected) {
            fastPath.connect(remote);
        }
        if (registration != null) {
            updateInterest();
        }
    }

    /**
     * After the kernel bound the channel by itself (a first send to {@code destination}, or a connect
     * to it), opens the fast path on the interface it routes there through. Failures leave the kernel
     * socket alone in charge, as for a bind whose interface cannot attach.
     */
    private void openImplicitFastPath(InetSocketAddress destination) {
        if (implicitTried || bound || fastPath != null || !config.isFastPath() || !open) {
            return;
        }
        implicitTried = true;
        try {
            InetSocketAddress l = companion.localAddress();
            if (l == null || l.getPort() == 0) {
                implicitTried = false; // not bound yet (the send did not happen): try again next time
                return;
            }
            local = l;
            fastPath = FastPathBinder.openImplicit(destination, l, config.fastPathSettings(), new NetworkFollower());
        } catch (IOException | RuntimeException e) {
            logger.debug("{}: no fast path for the implicit bind: {}", this, e.getMessage());
            return;
        }
        if (fastPath == null) {
            return;
        }
        xskEvents = -1;
        if (connected) {
            fastPath.connect(remote);
        }
        if (registration != null) {
            updateInterest();
        }
    }

    @Override
    protected void doDisconnect() throws Exception {
        companion.disconnect();
        connected = false;
        remote = null;
        if (fastPath != null) {
            fastPath.connect(null);
        }
    }

    @Override
    protected void doClose() throws Exception {
        open = false;
        bound = false;
        connected = false;
        // Stop watching the descriptors before closing them: the kernel hands a closed number to the
        // next socket at once, and an EPOLL_CTL_DEL by number at deregistration (a later task) would
        // then take that socket, perhaps another channel's on this loop, out of the epoll set.
        IoRegistration reg = registration;
        if (reg != null) {
            reg.cancel();
        }
        try {
            if (fastPath != null) {
                fastPath.close();
            }
        } finally {
            companion.close();
        }
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        updateInterest();
    }

    void clearReadPending() {
        if (isRegistered()) {
            EventLoop loop = eventLoop();
            if (loop.inEventLoop()) {
                readPending = false;
                updateInterest();
            } else {
                loop.execute(() -> {
                    readPending = false;
                    updateInterest();
                });
            }
        } else {
            readPending = false;
        }
    }

    /** Watches the companion socket and the AF_XDP sockets for what the channel wants now. */
    private void updateInterest() {
        IoRegistration reg = registration;
        if (reg == null || !open) {
            return;
        }
        boolean wantRead = readPending || config.isAutoRead() && reading;
        // EPOLLERR alone keeps a descriptor registered without read interest
        int wanted = wantRead ? Linux.EPOLLIN | Linux.EPOLLERR : Linux.EPOLLERR;
        if (wanted != companionEvents) {
            reg.submit(new XdpIoOps(companion.fd(), wanted));
            companionEvents = wanted;
        }
        FastPathSet fp = fastPath;
        if (fp != null && wanted != xskEvents) {
            for (int q = 0; q < fp.queueCount(); q++) {
                reg.submit(new XdpIoOps(fp.socketFd(q), wanted));
            }
            xskEvents = wanted;
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        return DatagramWriter.checkOutbound(msg);
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        InetSocketAddress first = null;
        if (!bound && !implicitTried && fastPath == null && in.current() instanceof io.netty.channel.AddressedEnvelope<?, ?> e
                && e.recipient() instanceof InetSocketAddress to && !to.isUnresolved()) {
            first = to;
        }
        writer.write(in, fastPath, remote, connected, eventLoop());
        if (first != null) {
            openImplicitFastPath(first);
        }
    }

    @Override
    ChannelFuture membership(InetAddress group, NetworkInterface ni, InetAddress source, boolean join,
                             ChannelPromise promise) {
        if (source != null) {
            promise.setFailure(new UnsupportedOperationException("source-specific multicast"));
            return promise;
        }
        try {
            companion.membership(group, ni, join);
            promise.setSuccess();
        } catch (IOException | RuntimeException e) {
            promise.setFailure(e);
        }
        return promise;
    }

    /** Lets the fast path apply network changes on this channel's event loop and re-watch its sockets. */
    private final class NetworkFollower implements FastPathSet.Owner {
        @Override
        public void execute(Runnable task) {
            if (!open || !isRegistered()) {
                return;
            }
            try {
                eventLoop().execute(() -> {
                    if (open) {
                        task.run();
                    }
                });
            } catch (RejectedExecutionException e) {
                // the loop is shutting down, and the channel with it
            }
        }

        @Override
        public void schedule(Runnable task, long delayNanos) {
            if (!open || !isRegistered()) {
                return;
            }
            try {
                eventLoop().schedule(() -> {
                    if (open) {
                        task.run();
                    }
                }, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // the loop is shutting down, and the channel with it
            }
        }

        @Override
        public void socketsChanging() {
            IoRegistration reg = registration;
            FastPathSet fp = fastPath;
            if (reg != null && fp != null && xskEvents != -1) {
                for (int q = 0; q < fp.queueCount(); q++) {
                    reg.submit(new XdpIoOps(fp.socketFd(q), 0));
                }
            }
            xskEvents = -1;
        }

        @Override
        public void socketsChanged() {
            xskEvents = -1;
            updateInterest();
        }
    }

    // --------------------------------------------------------------------------------------- unsafe

    /** The channel's I/O handle: the event loop calls it when a socket is ready. */
    final class XdpUnsafe extends AbstractUnsafe implements XdpIoHandle {
        private final XdpFastPath.DatagramSink sink = this::fireFastDatagram;
        private RecvByteBufAllocator.ExtendedHandle allocHandle;

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            boolean wasActive = isActive();
            try {
                if (connected) {
                    throw new java.nio.channels.AlreadyConnectedException();
                }
                InetSocketAddress to = (InetSocketAddress) remoteAddress;
                if (to.isUnresolved()) {
                    throw new UnresolvedAddressException();
                }
                if (localAddress != null) {
                    doBind(localAddress);
                }
                companion.connect(to);
                if (local == null) {
                    local = companion.localAddress();
                }
                remote = to;
                connected = true;
                if (fastPath != null) {
                    fastPath.connect(to);
                } else if (localAddress == null) {
                    openImplicitFastPath(to);
                }
                promise.trySuccess();
                if (!wasActive && isActive()) {
                    pipeline().fireChannelActive();
                }
            } catch (Throwable t) {
                promise.tryFailure(annotateConnectException(t, remoteAddress));
                closeIfClosed();
            }
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            XdpIoEvent ev = (XdpIoEvent) event;
            int fd = ev.fd();
            int events = ev.events();
            if (!open) {
                return;
            }
            try {
                if (fd == companion.fd()) {
                    if ((events & (Linux.EPOLLERR | Linux.EPOLLHUP)) != 0 && (events & Linux.EPOLLIN) == 0) {
                        companionError();
                    }
                    if ((events & Linux.EPOLLIN) != 0) {
                        readCompanion();
                    }
                    return;
                }
                FastPathSet fp = fastPath;
                if (fp != null && (events & Linux.EPOLLIN) != 0) {
                    int q = fp.queueOf(fd);
                    if (q >= 0) {
                        readFast(fp, q);
                    }
                }
            } catch (Throwable t) {
                failed(t);
            }
        }

        /**
         * Reading threw (e.g. out of direct memory for a copy): the pipeline sees the cause, then the
         * channel closes, taking its port out of the steering program; the loop serves on.
         */
        private void failed(Throwable t) {
            logger.warn("{}: reading failed; closing the channel", XdpDatagramChannel.this, t);
            try {
                pipeline().fireExceptionCaught(t);
            } finally {
                close(voidPromise());
            }
        }

        /** A pending socket error with nothing to read: remember it for the next write (or report it). */
        private void companionError() {
            int errno = companion.takeError();
            if (errno == 0) {
                return;
            }
            if (readPending || config.isAutoRead()) {
                pipeline().fireExceptionCaught(readError(errno));
            } else {
                writer.setPendingError(errno);
            }
        }

        private Throwable readError(int errno) {
            if (errno == Errno.ECONNREFUSED && connected) {
                PortUnreachableException e = new PortUnreachableException("recvfrom failed: ECONNREFUSED");
                e.initCause(new SyscallException("recvfrom", errno));
                return e;
            }
            return new SyscallException("recvfrom", errno);
        }

        private RecvByteBufAllocator.ExtendedHandle handle() {
            if (allocHandle == null) {
                allocHandle = (RecvByteBufAllocator.ExtendedHandle) recvBufAllocHandle();
            }
            return allocHandle;
        }

        private void readFast(FastPathSet fp, int q) {
            RecvByteBufAllocator.ExtendedHandle h = handle();
            h.reset(config);
            reading = true;
            try {
                do {
                    if (fp.receive(q, 64, sink) == 0) {
                        break;
                    }
                } while (open && h.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER));
            } finally {
                reading = false;
                readComplete(h);
            }
        }

        private boolean fireFastDatagram(DatagramPacket packet) {
            return fireRead(allocHandle, packet, packet.content().readableBytes());
        }

        /** Hands one received datagram of {@code len} bytes to the pipeline; true to read on. */
        private boolean fireRead(RecvByteBufAllocator.ExtendedHandle h, DatagramPacket packet, int len) {
            h.attemptedBytesRead(len);
            h.lastBytesRead(Math.max(1, len));
            h.incMessagesRead(1);
            readPending = false;
            pipeline().fireChannelRead(packet);
            return open && h.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER);
        }

        private void readCompanion() {
            RecvByteBufAllocator.ExtendedHandle h = handle();
            h.reset(config);
            Throwable error = null;
            reading = true;
            try {
                for (;;) {
                    int n = companion.receiveScratch();
                    if (n < 0) {
                        if (-n != Errno.EAGAIN) {
                            error = readError(-n);
                        }
                        break;
                    }
                    ByteBuf buf = h.allocate(alloc());
                    if (buf.writableBytes() < n) {
                        buf.release();
                        buf = alloc().directBuffer(n);
                    }
                    buf.writeBytes(companion.scratch().asSlice(0, n).asByteBuffer());
                    counters.rxPackets++;
                    counters.rxBytes += n;
                    if (!fireRead(h, new DatagramPacket(buf, XdpDatagramChannel.this.localAddress(), companion.lastSender()), n)) {
                        break;
                    }
                }
            } finally {
                reading = false;
                readComplete(h);
            }
            if (error != null) {
                pipeline().fireExceptionCaught(error);
            }
        }

        private void readComplete(RecvByteBufAllocator.ExtendedHandle h) {
            h.readComplete();
            pipeline().fireChannelReadComplete();
            if (!readPending && !config.isAutoRead()) {
                updateInterest();
            }
        }

        void flush0Now() {
            flush0();
        }

        @Override
        public void close() {
            close(voidPromise());
        }
    }

}
