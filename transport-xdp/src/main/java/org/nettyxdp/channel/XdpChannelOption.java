package org.nettyxdp.channel;

import org.nettyxdp.packet.RxChecksumPolicy;
import io.netty.channel.ChannelOption;

/**
 * Options of {@link XdpDatagramChannel}, on top of the standard {@link ChannelOption}s. Set them on the
 * {@code Bootstrap} before {@code bind}; they take effect when the channel binds.
 *
 * <pre>{@code
 * new Bootstrap().group(group).channel(XdpDatagramChannel.class)
 *     .option(XdpChannelOption.INTERFACE, "eth0")
 *     .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
 * }</pre>
 */
public final class XdpChannelOption<T> extends ChannelOption<T> {
    /**
     * Interface to receive on. Required when binding the wildcard address; otherwise the interface
     * owning the bound address is used and this must name it if set.
     */
    public static final ChannelOption<String> INTERFACE = valueOf(XdpChannelOption.class, "INTERFACE");
    /** How the steering program attaches (default {@link XdpAttachMode#AUTO}). */
    public static final ChannelOption<XdpAttachMode> XDP_MODE = valueOf(XdpChannelOption.class, "XDP_MODE");
    /** Zero-copy policy of the AF_XDP sockets (default {@link XdpZeroCopy#AUTO}). */
    public static final ChannelOption<XdpZeroCopy> ZERO_COPY = valueOf(XdpChannelOption.class, "ZERO_COPY");
    /** Bytes per UMEM frame: 2048 or 4096 (default 2048). */
    public static final ChannelOption<Integer> UMEM_FRAME_SIZE = valueOf(XdpChannelOption.class, "UMEM_FRAME_SIZE");
    /** UMEM frames per interface queue: a power of two ≥ 64 (default 4096). */
    public static final ChannelOption<Integer> UMEM_FRAME_COUNT = valueOf(XdpChannelOption.class, "UMEM_FRAME_COUNT");
    /** Extra headroom kept before received data, for prepending headers (default 0). */
    public static final ChannelOption<Integer> UMEM_HEADROOM = valueOf(XdpChannelOption.class, "UMEM_HEADROOM");
    /** Slots of each RX and TX ring: a power of two in [8, 65536] (default 2048). */
    public static final ChannelOption<Integer> RING_SIZE = valueOf(XdpChannelOption.class, "RING_SIZE");
    /** How received UDP checksums are checked (default {@link RxChecksumPolicy#VERIFY_UNLESS_PARTIAL}). */
    public static final ChannelOption<RxChecksumPolicy> RX_CHECKSUM =
            valueOf(XdpChannelOption.class, "RX_CHECKSUM");
    /**
     * Share of the UMEM's frames the application may hold before received datagrams are copied into
     * ordinary buffers instead, so the fill ring never starves (0 &lt; share ≤ 1, default 0.5).
     */
    public static final ChannelOption<Double> COPY_FALLBACK_THRESHOLD =
            valueOf(XdpChannelOption.class, "COPY_FALLBACK_THRESHOLD");
    /**
     * Busy-poll budget of the AF_XDP sockets (0, the default, turns busy polling off). When positive,
     * the sockets get {@code SO_PREFER_BUSY_POLL}, {@code SO_BUSY_POLL} (50 µs) and this
     * {@code SO_BUSY_POLL_BUDGET}: the kernel processes the queue in the application's syscalls
     * instead of in interrupts. Pair it with {@link XdpIoHandlerConfig#setBusyPoll(boolean)}.
     */
    public static final ChannelOption<Integer> BUSY_POLL_BUDGET = valueOf(XdpChannelOption.class, "BUSY_POLL_BUDGET");
    /**
     * {@code SO_REUSEPORT} of the channel's kernel socket (default false), as
     * {@code EpollChannelOption.SO_REUSEPORT}: several channels, typically one per event loop of an
     * {@link XdpEventLoopGroup}, may bind the same address and port. On the fast path they split the
     * interface's RX queues between them, each queue served by exactly one channel (so one loop), each
     * channel sending on a queue of its own; with more channels than queues the extra ones receive
     * nothing until a channel with queues closes and hands its queues over. Set it before bind on every
     * channel of the address and port. See {@code docs/SCALING.md}.
     */
    public static final ChannelOption<Boolean> SO_REUSEPORT = valueOf(XdpChannelOption.class, "SO_REUSEPORT");
    /**
     * How long a write may wait for room to send, in milliseconds (default 1000): when the TX ring (or
     * the kernel socket's buffer) has not taken a single datagram for this long, every write waiting in
     * the outbound buffer fails with a {@link TxDrainTimeoutException} and is counted in
     * {@link XdpChannelMetrics#txDrainTimeouts()}. The datagrams are not diverted to the kernel socket:
     * a ring that stops draining means the interface sends nothing, whichever path queues to it. Later
     * writes try again. May change at any time.
     */
    public static final ChannelOption<Integer> TX_DRAIN_TIMEOUT_MILLIS =
            valueOf(XdpChannelOption.class, "TX_DRAIN_TIMEOUT_MILLIS");
    /** Whether to take the XDP fast path at all (default true); false makes the channel a plain kernel socket. */
    public static final ChannelOption<Boolean> FAST_PATH = valueOf(XdpChannelOption.class, "FAST_PATH");

    @SuppressWarnings("deprecation")
    private XdpChannelOption() {
        super(null);
    }
}
