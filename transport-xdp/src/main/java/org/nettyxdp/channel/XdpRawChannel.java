package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.StringUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.netlink.GenNetlink;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.NetdevFeatures;
import org.nettyxdp.netlink.RtNetlink;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.xsk.BusyQueueRetry;
import org.nettyxdp.xsk.RawFastPath;

import java.io.IOException;
import java.net.BindException;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A Netty {@link io.netty.channel.Channel} of whole Ethernet frames over AF_XDP: bound to an
 * interface with an {@link XdpRawAddress} (an {@link XdpFrameFilter} and the RX queues), it receives
 * every frame the filter takes, before the kernel's stack sees it, and sends frames as they are. Frames
 * the filter does not take go to the kernel, so the host keeps working.
 *
 * <p><b>RX.</b> Each frame arrives as a {@link UmemByteBuf} over its UMEM frame (no copy): index 0 is
 * the Ethernet header, the writer index the frame's end; {@link UmemByteBuf#packet()} is an
 * {@link XdpPacket} view for typed header access and in-place edits, and {@code release()} returns the
 * frame. When the application holds more than {@link XdpChannelOption#COPY_FALLBACK_THRESHOLD} of the
 * UMEM's frames, frames arrive copied into ordinary buffers instead, so receiving never starves.
 *
 * <p><b>TX.</b> Writing a {@code UmemByteBuf} of the channel's UMEMs (a received frame, edited, or one
 * from {@link #allocateFrame()}) sends that frame, with no copy; any other {@link ByteBuf} is copied
 * into a free frame once. The readable bytes are the frame, Ethernet header first; checksums are the
 * application's ({@link org.nettyxdp.packet.Checksum}), or the device's where
 * {@link #isTxChecksumOffload()} says it computes them. When the TX ring is full the rest waits in the
 * outbound buffer (so {@link #isWritable()} follows the ring through the usual water marks) and the
 * write is retried after the kernel completes sends.
 *
 * <p><b>Sharing.</b> Raw channels and {@link XdpDatagramChannel}s on one interface share its XDP
 * program and each queue's UMEM. A frame goes to the datagram channel bound to its UDP port and
 * address first; otherwise to the first raw channel (in bind order) whose filter takes it and that
 * listens on its RX queue; otherwise to the kernel.
 *
 * <pre>{@code
 * new Bootstrap().group(new XdpEventLoopGroup(1)).channel(XdpRawChannel.class)
 *     .handler(new Reflector())
 *     .bind(new XdpRawAddress("eth0", XdpFrameFilter.udpDestinationPort(7))).sync();
 * }</pre>
 */
public final class XdpRawChannel extends AbstractXdpChannel {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpRawChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 64);
    private static final long NO_ROOM_RETRY_MICROS = 50;
    /** Headroom of {@link #allocateFrame()} buffers: room to prepend a tag or an encapsulation in place. */
    public static final int FRAME_HEADROOM = 64;

    private final XdpRawChannelConfig config = new XdpRawChannelConfig(this);
    private final XdpChannelMetrics.SlowPathCounters none = new XdpChannelMetrics.SlowPathCounters();
    private RawFastPath fastPath;
    private volatile XdpRawAddress local;
    private volatile NetdevFeatures features = NetdevFeatures.NONE;
    private volatile int txOffloads;
    private boolean retryScheduled;
    /** A bind waits for a busy queue. */
    private boolean bindPending;
    /** What {@link #unsafe()} returns; assigned by the first call, during construction (no initializer). */
    private Unsafe bindRetrying;

    /** A raw channel; bind it to an {@link XdpRawAddress}. */
    public XdpRawChannel() {
    }

    @Override
    int companionFd() {
        return -1;
    }

    @Override
    int xskCount() {
        RawFastPath fp = fastPath;
        return fp == null ? -1 : fp.queueCount();
    }

    @Override
    int xskFd(int i) {
        return fastPath.socketFd(i);
    }

    @Override
    public XdpRawChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isActive() {
        return open && fastPath != null;
    }

    @Override
    public XdpRawAddress localAddress() {
        return (XdpRawAddress) super.localAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    /** What the bound interface advertises through the kernel's {@code netdev} family (none before bind). */
    public String deviceFeatures() {
        NetdevFeatures f = features;
        return "xdp-features 0x" + Long.toHexString(f.xdpFeatures()) + ", xsk-features 0x"
                + Long.toHexString(f.xskFeatures());
    }

    /**
     * True if the device computes checksums from TX metadata for this channel's frames
     * ({@link XdpPacket#setTxMetadata} with a {@code csumStart}); false (e.g. on veth and lo): compute
     * them in software with {@link org.nettyxdp.packet.Checksum}.
     */
    public boolean isTxChecksumOffload() {
        return (txOffloads & XdpPacket.TX_OFFLOAD_CHECKSUM) != 0;
    }

    /** True if the device reports TX timestamps through TX metadata for this channel's frames. */
    public boolean isTxTimestampSupported() {
        return (txOffloads & XdpPacket.TX_OFFLOAD_TIMESTAMP) != 0;
    }

    /**
     * A buffer to build one outgoing frame in: a {@link UmemByteBuf} over a free frame of the
     * channel's first queue, empty, {@link #FRAME_HEADROOM} bytes of headroom below index 0; writing
     * it sends the frame itself. Without a spare frame (or before bind) an ordinary direct buffer of
     * the same capacity, copied when written.
     */
    public ByteBuf allocateFrame() {
        RawFastPath fp = fastPath;
        ByteBuf buf = fp == null ? null : fp.allocate(FRAME_HEADROOM);
        return buf != null ? buf : alloc().directBuffer(maxFrameLength());
    }

    /** The longest frame the channel sends: the interface MTU plus a VLAN-tagged Ethernet header. */
    public int maxFrameLength() {
        RawFastPath fp = fastPath;
        return fp == null ? config.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM - FRAME_HEADROOM
                : Math.min(fp.maxFrameLength(), fp.frameCapacity() - FRAME_HEADROOM);
    }

    /** A snapshot of this channel's counters (its frames count as the fast path's packets). */
    public XdpChannelMetrics metrics() {
        RawFastPath fp = fastPath;
        return XdpChannelMetrics.of(none, fp == null ? null : fp.counters(),
                fp == null ? org.nettyxdp.socket.XdpStatistics.ZERO : fp.statistics(), 0);
    }

    /** Where the frames of each bound queue's UMEM are; empty before bind. */
    public FrameAccounting[] frameAccounting() {
        RawFastPath fp = fastPath;
        return fp == null ? new FrameAccounting[0] : fp.accounting();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new RawUnsafe();
    }

    /**
     * The channel's {@link Unsafe}: what the pipeline's head hands every bind to (from
     * {@link io.netty.bootstrap.Bootstrap}, {@code channel.bind} and {@code ctx.bind} alike). Binds as
     * Netty's channels do, except that a queue still busy with an AF_XDP socket closed moments ago
     * (the kernel frees it asynchronously) is retried on the event loop, never blocking it, for two
     * seconds at most: the bind's promise completes when the bind does, or fails saying why.
     */
    @Override
    public Unsafe unsafe() {
        // first called by the pipeline's constructor, inside the superclass's, before this class's
        // fields are initialized: the field has no initializer, so what is assigned here stays
        Unsafe u = bindRetrying;
        if (u == null) {
            u = new BindRetryingUnsafe(rawUnsafe());
            bindRetrying = u;
        }
        return u;
    }

    /** The channel's own unsafe, whose {@code bind} is Netty's (one attempt). */
    private RawUnsafe rawUnsafe() {
        return (RawUnsafe) super.unsafe();
    }

    @Override
    XdpIoHandle ioHandle() {
        return rawUnsafe();
    }

    /** Binds as {@link #unsafe()} says, retrying a busy queue; {@code promise} is uncancellable already. */
    private void bindRetrying(SocketAddress localAddress, ChannelPromise promise) {
        ChannelPromise attempt = newPromise();
        attempt.addListener(f -> bindAttempted(f, localAddress, promise, null));
        rawUnsafe().bind(localAddress, attempt);
    }

    /** After a bind attempt: done, or a busy queue retried later ({@code busy}: the retries so far). */
    private void bindAttempted(Future<?> f, SocketAddress localAddress, ChannelPromise promise, BusyQueueRetry busy) {
        if (f.isSuccess()) {
            promise.trySuccess();
            return;
        }
        if (!(f.cause() instanceof BindBusyException e) || !open) {
            promise.tryFailure(f.cause());
            return;
        }
        Throwable failure;
        try {
            if (busy == null) {
                logger.debug("{}: a queue of {} is busy; the bind retries until it is free", this, localAddress);
            }
            BusyQueueRetry retry = busy != null ? busy : new BusyQueueRetry((task, delayNanos) ->
                    eventLoop().schedule(task, delayNanos, TimeUnit.NANOSECONDS));
            if (retry.retryLater(e, () -> {
                bindPending = false;
                if (!open) {
                    promise.tryFailure(new ClosedChannelException());
                    return;
                }
                ChannelPromise again = newPromise();
                again.addListener(g -> bindAttempted(g, localAddress, promise, retry));
                rawUnsafe().bind(localAddress, again);
            })) {
                bindPending = true;
                return;
            }
            failure = new BindException("cannot bind to " + localAddress + ": a queue was still busy after "
                    + BusyQueueRetry.TIMEOUT_MILLIS + " ms: " + e.getMessage());
            failure.initCause(e);
        } catch (RejectedExecutionException r) {
            failure = r;
        }
        promise.tryFailure(failure);
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        if (!(localAddress instanceof XdpRawAddress address)) {
            throw new IllegalArgumentException("an XdpRawChannel binds to an XdpRawAddress, not "
                    + StringUtil.simpleClassName(localAddress));
        }
        if (fastPath != null) {
            throw new AlreadyConnectedException();
        }
        if (bindPending) {
            throw new IllegalStateException("a bind of this channel waits for a busy queue already");
        }
        LinkInfo link;
        try (RtNetlink rtnl = new RtNetlink()) {
            link = rtnl.link(address.interfaceName());
        }
        NetdevFeatures f = queryFeatures(link);
        int offloads = (f.txChecksumOffload() ? XdpPacket.TX_OFFLOAD_CHECKSUM : 0)
                | (f.txTimestamp() ? XdpPacket.TX_OFFLOAD_TIMESTAMP : 0);
        UmemConfig umem = config.umem();
        if (offloads != 0 && umem.txMetadataLen() < XdpPacket.TX_METADATA_LEN) {
            umem = umem.withTxMetadataLen(XdpPacket.TX_METADATA_LEN);
        }
        RawFastPath fp;
        try {
            fp = RawFastPath.open(link, address.queuesOrNull(), address.filter().match(), config.settings(umem),
                    offloads);
        } catch (BindBusyException e) {
            throw e; // the queue frees soon: the unsafe the pipeline binds through retries it
        } catch (IOException e) {
            if (umem.equals(config.umem())) {
                throw e;
            }
            // the queues' UMEMs exist already, without a metadata area (a datagram channel made them):
            // share them as they are, and compute checksums in software
            logger.debug("{}: TX metadata unavailable on {} ({}): checksums in software", this, link.name(),
                    e.getMessage());
            umem = config.umem();
            offloads = 0;
            fp = RawFastPath.open(link, address.queuesOrNull(), address.filter().match(), config.settings(umem), 0);
        }
        features = f;
        fastPath = fp;
        txOffloads = offloads;
        local = address;
        socketsChanged();
    }

    private static NetdevFeatures queryFeatures(LinkInfo link) {
        try {
            return GenNetlink.netdevFeatures(link.index());
        } catch (IOException e) {
            logger.debug("netdev features of {} unknown ({}): TX checksums in software", link.name(), e.getMessage());
            return NetdevFeatures.NONE;
        }
    }

    @Override
    protected void doDisconnect() {
        // nothing is connected
    }

    @Override
    protected void doClose() {
        open = false;
        cancelRegistration();
        RawFastPath fp = fastPath;
        if (fp != null) {
            fp.close();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (expected: " + StringUtil.simpleClassName(ByteBuf.class) + ", one Ethernet frame)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        RawFastPath fp = fastPath;
        if (fp == null) {
            while (in.current() != null) {
                in.remove(new java.nio.channels.NotYetBoundException());
            }
            return;
        }
        boolean waiting = false;
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    break;
                }
                RawFastPath.SendResult r;
                try {
                    r = fp.send((ByteBuf) msg);
                } catch (IllegalArgumentException e) {
                    in.remove(e);
                    continue;
                }
                if (r == RawFastPath.SendResult.NO_ROOM) {
                    waiting = true;
                    break;
                }
                in.remove();
            }
        } finally {
            fp.flush();
        }
        if (waiting && !retryScheduled) {
            retryScheduled = true;
            eventLoop().schedule(() -> {
                retryScheduled = false;
                if (open) {
                    rawUnsafe().flush0Now();
                }
            }, NO_ROOM_RETRY_MICROS, TimeUnit.MICROSECONDS);
        }
    }

    /** The channel's I/O handle: the event loop calls it when a socket is ready. */
    final class RawUnsafe extends AbstractUnsafe implements XdpIoHandle {
        private final RawFastPath.FrameSink sink = this::fireFrame;

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            promise.setFailure(new UnsupportedOperationException("a raw channel is not connected; bind it"));
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            XdpIoEvent ev = (XdpIoEvent) event;
            RawFastPath fp = fastPath;
            if (!open || fp == null || (ev.events() & Linux.EPOLLIN) == 0) {
                return;
            }
            int i = fp.queueOf(ev.fd());
            if (i < 0) {
                return;
            }
            RecvByteBufAllocator.ExtendedHandle h = startRead();
            reading = true;
            try {
                do {
                    if (fp.receive(i, 64, sink) == 0) {
                        break;
                    }
                } while (open && h.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER));
            } finally {
                reading = false;
                readComplete(h);
            }
        }

        private boolean fireFrame(ByteBuf frame) {
            return fireRead(readHandle(), frame, frame.readableBytes());
        }

        void flush0Now() {
            flush0();
        }

        @Override
        public void close() {
            close(voidPromise());
        }
    }

    /**
     * The channel's unsafe as the pipeline sees it: the {@link RawUnsafe}, whose {@code bind} (final in
     * Netty's {@code AbstractUnsafe}) is wrapped so that a busy queue is retried whichever path the
     * bind took.
     */
    private final class BindRetryingUnsafe implements Unsafe {
        private final RawUnsafe raw;

        BindRetryingUnsafe(RawUnsafe raw) {
            this.raw = raw;
        }

        @Override
        public void bind(SocketAddress localAddress, ChannelPromise promise) {
            if (promise.setUncancellable()) {
                bindRetrying(localAddress, promise);
            }
        }

        @Override
        public RecvByteBufAllocator.Handle recvBufAllocHandle() {
            return raw.recvBufAllocHandle();
        }

        @Override
        public SocketAddress localAddress() {
            return raw.localAddress();
        }

        @Override
        public SocketAddress remoteAddress() {
            return raw.remoteAddress();
        }

        @Override
        public void register(EventLoop eventLoop, ChannelPromise promise) {
            raw.register(eventLoop, promise);
        }

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            raw.connect(remoteAddress, localAddress, promise);
        }

        @Override
        public void disconnect(ChannelPromise promise) {
            raw.disconnect(promise);
        }

        @Override
        public void close(ChannelPromise promise) {
            raw.close(promise);
        }

        @Override
        public void closeForcibly() {
            raw.closeForcibly();
        }

        @Override
        public void deregister(ChannelPromise promise) {
            raw.deregister(promise);
        }

        @Override
        public void beginRead() {
            raw.beginRead();
        }

        @Override
        public void write(Object msg, ChannelPromise promise) {
            raw.write(msg, promise);
        }

        @Override
        public void flush() {
            raw.flush();
        }

        @Override
        public ChannelPromise voidPromise() {
            return raw.voidPromise();
        }

        @Override
        public ChannelOutboundBuffer outboundBuffer() {
            return raw.outboundBuffer();
        }
    }
}
