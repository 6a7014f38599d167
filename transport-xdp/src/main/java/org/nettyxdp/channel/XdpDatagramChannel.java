package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEvent;
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
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.xsk.FastPathSet;
import org.nettyxdp.xsk.XdpFastPath;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
    private final CompanionReader companionReader;
    private final FastPathOpener opener;
    private FastPathSet fastPath;
    private volatile InetSocketAddress local;
    private volatile InetSocketAddress remote;
    private volatile boolean bound;
    private volatile boolean connected;

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
        this.companionReader = new CompanionReader(this, companion, counters, writer);
        this.opener = new FastPathOpener(this, companion);
    }

    private static SocketProtocolFamily defaultFamily() {
        boolean ipv6 = !Boolean.getBoolean("java.net.preferIPv4Stack") && Files.exists(Path.of("/proc/net/if_inet6"));
        return ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
    }

    CompanionSocket companion() {
        return companion;
    }

    @Override
    int companionFd() {
        return companion.fd();
    }

    @Override
    int xskCount() {
        FastPathSet fp = fastPath;
        return fp == null ? -1 : fp.queueCount();
    }

    @Override
    int xskFd(int i) {
        return fastPath.socketFd(i);
    }

    /** The kernel bound the channel by itself (first write, connect without bind) to {@code l}. */
    void boundImplicitly(InetSocketAddress l) {
        local = l;
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
    protected AbstractUnsafe newUnsafe() {
        return new XdpUnsafe();
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
            attach(opener.open(requested.getAddress(), local));
        }
        bound = true;
    }

    /** Opens the fast path of an implicit bind, unless bound, opened or not wanted. */
    private void openImplicitFastPath(InetSocketAddress destination) {
        if (!bound && fastPath == null && config.isFastPath() && open) {
            attach(opener.openImplicit(destination));
        }
    }

    /** Takes {@code fp} (null: none) as the channel's fast path and watches its sockets. */
    private void attach(FastPathSet fp) {
        if (fp == null) {
            return;
        }
        fastPath = fp;
        if (connected) {
            fp.connect(remote);
        }
        socketsChanged();
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
        cancelRegistration();
        try {
            if (fastPath != null) {
                fastPath.close();
            }
        } finally {
            companion.close();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        return DatagramWriter.checkOutbound(msg);
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        InetSocketAddress first = null;
        if (!bound && !opener.implicitTried() && fastPath == null && in.current() instanceof io.netty.channel.AddressedEnvelope<?, ?> e
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

    // --------------------------------------------------------------------------------------- unsafe

    /** The channel's I/O handle: the event loop calls it when a socket is ready. */
    final class XdpUnsafe extends AbstractUnsafe implements XdpIoHandle {
        private final XdpFastPath.DatagramSink sink = this::fireFastDatagram;

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
                        companionReader.error();
                    }
                    if ((events & Linux.EPOLLIN) != 0) {
                        companionReader.read();
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

        private void readFast(FastPathSet fp, int q) {
            RecvByteBufAllocator.ExtendedHandle h = startRead();
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
            return fireRead(readHandle(), packet, packet.content().readableBytes());
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
