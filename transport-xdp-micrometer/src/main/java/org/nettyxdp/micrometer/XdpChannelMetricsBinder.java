package org.nettyxdp.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.packet.DropReason;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Binds one {@link XdpDatagramChannel}'s counters ({@link XdpDatagramChannel#metrics()},
 * {@link XdpDatagramChannel#frameAccounting()}, {@link XdpDatagramChannel#isFastPathActive()}) to a
 * Micrometer {@link MeterRegistry} as function counters and gauges. The meters read the channel when
 * the registry asks for them: there is no polling thread. One scrape takes one snapshot of the
 * channel, however many meters it reads.
 *
 * <pre>{@code
 * XdpDatagramChannel channel = (XdpDatagramChannel) bootstrap.bind(address).sync().channel();
 * XdpChannelMetricsBinder.bind(channel, registry);   // the meters go away when the channel closes
 * }</pre>
 *
 * <p>Every meter is tagged with {@code channel} (the channel id's short text), {@code interface} (the
 * fast path's interface at bind time, or {@code none}) and {@code local.address} ({@code host:port}),
 * plus any extra tags given. The meters:
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>extra tags</th><th>what</th></tr>
 * <tr><td>{@code xdp.channel.packets}</td><td>counter</td><td>{@code direction} rx|tx, {@code path}
 * fast|slow</td><td>datagrams received and sent, on AF_XDP (fast) and on the companion kernel socket
 * (slow)</td></tr>
 * <tr><td>{@code xdp.channel.bytes}</td><td>counter</td><td>same</td><td>their payload bytes</td></tr>
 * <tr><td>{@code xdp.channel.rx.copied}</td><td>counter</td><td></td><td>fast-path datagrams copied out of
 * the UMEM (copy fallback)</td></tr>
 * <tr><td>{@code xdp.channel.tx.zero.copy}</td><td>counter</td><td></td><td>fast-path sends from the frame
 * they were received in</td></tr>
 * <tr><td>{@code xdp.channel.tx.ring.full}</td><td>counter</td><td></td><td>writes that waited for a TX slot
 * or frame</td></tr>
 * <tr><td>{@code xdp.channel.tx.kick.errors}</td><td>counter</td><td></td><td>TX kicks the kernel
 * refused</td></tr>
 * <tr><td>{@code xdp.channel.tx.drain.timeouts}</td><td>counter</td><td></td><td>writes failed because
 * nothing could be sent for {@code TX_DRAIN_TIMEOUT_MILLIS}</td></tr>
 * <tr><td>{@code xdp.channel.drops}</td><td>counter</td><td>{@code reason}: a {@link DropReason}</td>
 * <td>frames the channel dropped</td></tr>
 * <tr><td>{@code xdp.channel.kernel.*}</td><td>counter</td><td></td><td>the kernel's
 * {@code XDP_STATISTICS} ({@link XdpChannelMetrics.Kernel}): {@code rx.dropped}, {@code rx.invalid.descs},
 * {@code tx.invalid.descs}, {@code rx.ring.full}, {@code rx.fill.ring.empty}, {@code tx.ring.empty}</td></tr>
 * <tr><td>{@code xdp.channel.frames}</td><td>gauge</td><td>{@code state}
 * total|free|kernel.rx|application|tx</td><td>{@link FrameAccounting} summed over the UMEMs of the
 * channel's queues (shared with other channels on those queues)</td></tr>
 * <tr><td>{@code xdp.channel.fast.path.active}</td><td>gauge</td><td></td><td>1 while the fast path runs,
 * else 0</td></tr>
 * </table>
 *
 * <p>{@link #close()} removes the meters from every registry they were bound to; it runs by itself when
 * the channel closes.
 */
public final class XdpChannelMetricsBinder implements MeterBinder, AutoCloseable {
    private final XdpDatagramChannel channel;
    private final Tags tags;
    private final Sampler sampler;
    private final List<Bound> bound = new ArrayList<>();
    private boolean closed;

    /**
     * A binder for {@code channel}, which must be bound already (its interface and local address become
     * tags), with {@code extraTags} on every meter.
     */
    public XdpChannelMetricsBinder(XdpDatagramChannel channel, Iterable<Tag> extraTags) {
        InetSocketAddress local = channel.localAddress();
        if (local == null) {
            throw new IllegalStateException("bind the channel before its meters: " + channel);
        }
        String iface = channel.fastPathInterface();
        this.channel = channel;
        this.tags = Tags.of("channel", channel.id().asShortText(), "interface", iface == null ? "none" : iface,
                "local.address", hostPort(local)).and(extraTags);
        this.sampler = new Sampler(channel);
        channel.closeFuture().addListener(f -> close());
    }

    /** A binder for {@code channel} (bound already) with the standard tags only. */
    public XdpChannelMetricsBinder(XdpDatagramChannel channel) {
        this(channel, Tags.empty());
    }

    /**
     * Binds {@code channel}'s meters to {@code registry} and returns the binder, whose {@link #close()}
     * removes them (as closing the channel does).
     */
    public static XdpChannelMetricsBinder bind(XdpDatagramChannel channel, MeterRegistry registry) {
        return bind(channel, registry, Tags.empty());
    }

    /** As {@link #bind(XdpDatagramChannel, MeterRegistry)}, with {@code extraTags} on every meter. */
    public static XdpChannelMetricsBinder bind(XdpDatagramChannel channel, MeterRegistry registry,
                                               Iterable<Tag> extraTags) {
        XdpChannelMetricsBinder binder = new XdpChannelMetricsBinder(channel, extraTags);
        binder.bindTo(registry);
        return binder;
    }

    /** The channel these meters read. */
    public XdpDatagramChannel channel() {
        return channel;
    }

    /** The tags every meter of this binder carries. */
    public Tags tags() {
        return tags;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        List<Meter> meters = new ArrayList<>();
        counter(meters, registry, "xdp.channel.packets", "datagrams", "datagrams received or sent",
                Tags.of("direction", "rx", "path", "fast"), XdpChannelMetrics::rxFastPackets);
        counter(meters, registry, "xdp.channel.packets", "datagrams", "datagrams received or sent",
                Tags.of("direction", "rx", "path", "slow"), XdpChannelMetrics::rxSlowPackets);
        counter(meters, registry, "xdp.channel.packets", "datagrams", "datagrams received or sent",
                Tags.of("direction", "tx", "path", "fast"), XdpChannelMetrics::txFastPackets);
        counter(meters, registry, "xdp.channel.packets", "datagrams", "datagrams received or sent",
                Tags.of("direction", "tx", "path", "slow"), XdpChannelMetrics::txSlowPackets);
        counter(meters, registry, "xdp.channel.bytes", "bytes", "payload bytes received or sent",
                Tags.of("direction", "rx", "path", "fast"), XdpChannelMetrics::rxFastBytes);
        counter(meters, registry, "xdp.channel.bytes", "bytes", "payload bytes received or sent",
                Tags.of("direction", "rx", "path", "slow"), XdpChannelMetrics::rxSlowBytes);
        counter(meters, registry, "xdp.channel.bytes", "bytes", "payload bytes received or sent",
                Tags.of("direction", "tx", "path", "fast"), XdpChannelMetrics::txFastBytes);
        counter(meters, registry, "xdp.channel.bytes", "bytes", "payload bytes received or sent",
                Tags.of("direction", "tx", "path", "slow"), XdpChannelMetrics::txSlowBytes);
        counter(meters, registry, "xdp.channel.rx.copied", "datagrams",
                "fast-path datagrams copied out of the UMEM because the application held too many frames",
                Tags.empty(), XdpChannelMetrics::rxCopied);
        counter(meters, registry, "xdp.channel.tx.zero.copy", "datagrams",
                "fast-path datagrams sent from the frame they were received in", Tags.empty(),
                XdpChannelMetrics::txZeroCopy);
        counter(meters, registry, "xdp.channel.tx.ring.full", "events",
                "writes that found no TX slot or free frame and waited", Tags.empty(), XdpChannelMetrics::txRingFull);
        counter(meters, registry, "xdp.channel.tx.kick.errors", "events", "TX kicks the kernel refused",
                Tags.empty(), XdpChannelMetrics::txKickErrors);
        counter(meters, registry, "xdp.channel.tx.drain.timeouts", "datagrams",
                "writes failed because nothing could be sent for TX_DRAIN_TIMEOUT_MILLIS", Tags.empty(),
                XdpChannelMetrics::txDrainTimeouts);
        for (DropReason reason : DropReason.values()) {
            counter(meters, registry, "xdp.channel.drops", "frames", "frames the channel dropped, by reason",
                    Tags.of("reason", reason.name()), m -> m.drops().getOrDefault(reason, 0L));
        }
        kernel(meters, registry, "rx.dropped", "frames the kernel dropped for other reasons than a full ring",
                k -> k.rxDropped());
        kernel(meters, registry, "rx.invalid.descs", "invalid descriptors on the fill ring", k -> k.rxInvalidDescs());
        kernel(meters, registry, "tx.invalid.descs", "invalid descriptors on the TX ring", k -> k.txInvalidDescs());
        kernel(meters, registry, "rx.ring.full", "frames dropped because the RX ring was full", k -> k.rxRingFull());
        kernel(meters, registry, "rx.fill.ring.empty", "times the fill ring was empty when a frame arrived",
                k -> k.rxFillRingEmptyDescs());
        kernel(meters, registry, "tx.ring.empty", "times the kernel found the TX ring empty",
                k -> k.txRingEmptyDescs());
        frames(meters, registry, "total", FrameAccounting::total);
        frames(meters, registry, "free", FrameAccounting::free);
        frames(meters, registry, "kernel.rx", FrameAccounting::kernelRx);
        frames(meters, registry, "application", FrameAccounting::application);
        frames(meters, registry, "tx", FrameAccounting::tx);
        int active = sampler.register();
        meters.add(Gauge.builder("xdp.channel.fast.path.active", sampler, s -> s.sample(active).fastPathActive ? 1 : 0)
                .description("1 while datagrams take the AF_XDP fast path, else 0")
                .tags(tags)
                .register(registry));
        boolean remove;
        synchronized (this) {
            remove = closed || !channel.isOpen();
            if (!remove) {
                bound.add(new Bound(registry, meters));
            }
        }
        if (remove) {
            meters.forEach(registry::remove); // the channel closed meanwhile
        }
    }

    private void counter(List<Meter> meters, MeterRegistry registry, String name, String unit, String description,
                         Tags extra, ToDoubleFunction<XdpChannelMetrics> value) {
        int index = sampler.register();
        meters.add(FunctionCounter.builder(name, sampler, s -> value.applyAsDouble(s.sample(index).metrics))
                .description(description)
                .baseUnit(unit)
                .tags(tags)
                .tags(extra)
                .register(registry));
    }

    private void kernel(List<Meter> meters, MeterRegistry registry, String name, String description,
                        ToDoubleFunction<XdpChannelMetrics.Kernel> value) {
        counter(meters, registry, "xdp.channel.kernel." + name, "events", description + " (kernel XDP_STATISTICS)",
                Tags.empty(), m -> value.applyAsDouble(m.kernel()));
    }

    private void frames(List<Meter> meters, MeterRegistry registry, String state,
                        ToDoubleFunction<FrameAccounting> part) {
        int index = sampler.register();
        meters.add(Gauge.builder("xdp.channel.frames", sampler, s -> {
                    double sum = 0;
                    for (FrameAccounting a : s.sample(index).frames) {
                        sum += part.applyAsDouble(a);
                    }
                    return sum;
                })
                .description("UMEM frames by where they are, summed over the UMEMs of the channel's queues")
                .baseUnit("frames")
                .tags(tags)
                .tag("state", state)
                .register(registry));
    }

    /** Removes the meters from every registry they were bound to; idempotent. */
    @Override
    public void close() {
        List<Bound> toRemove;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toRemove = new ArrayList<>(bound);
            bound.clear();
        }
        for (Bound b : toRemove) {
            b.meters.forEach(b.registry::remove);
        }
    }

    private static String hostPort(InetSocketAddress address) {
        String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
        return (address.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private record Bound(MeterRegistry registry, List<Meter> meters) {
    }

    /**
     * One snapshot of the channel per scrape: a meter reads the current snapshot unless it has read it
     * already, in which case a new scrape has begun and a new snapshot is taken.
     */
    static final class Sampler {
        private final XdpDatagramChannel channel;
        private final BitSet served = new BitSet();
        private int meters;
        private Sample current;

        Sampler(XdpDatagramChannel channel) {
            this.channel = channel;
        }

        synchronized int register() {
            return meters++;
        }

        synchronized Sample sample(int meter) {
            if (current == null || served.get(meter)) {
                current = new Sample(channel.metrics(), channel.frameAccounting(), channel.isFastPathActive());
                served.clear();
            }
            served.set(meter);
            return current;
        }
    }

    record Sample(XdpChannelMetrics metrics, FrameAccounting[] frames, boolean fastPathActive) {
    }
}
