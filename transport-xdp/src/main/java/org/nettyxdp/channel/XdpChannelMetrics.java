package org.nettyxdp.channel;

import org.nettyxdp.packet.DropReason;
import org.nettyxdp.socket.XdpStatistics;
import org.nettyxdp.xsk.FastPathCounters;
import org.nettyxdp.xsk.XdpFastPath;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of one {@link XdpDatagramChannel}'s counters: datagrams and bytes on the XDP fast path
 * and on the companion kernel socket (slow path), copies made, drops by reason, ring pressure, and
 * the kernel's own AF_XDP statistics summed over the channel's queues.
 *
 * @param rxFastPackets   datagrams received through AF_XDP
 * @param rxFastBytes     their payload bytes
 * @param rxSlowPackets   datagrams received through the companion socket
 * @param rxSlowBytes     their payload bytes
 * @param rxCopied        fast-path datagrams copied out of the UMEM because the application held too many frames
 * @param txFastPackets   datagrams sent through AF_XDP
 * @param txFastBytes     their payload bytes
 * @param txZeroCopy      of those, sent from the frame (or chain of frames) they were received in (no copy)
 * @param txSlowPackets   datagrams sent through the companion socket
 * @param txSlowBytes     their payload bytes
 * @param txRingFull      times a write found no TX slot or free frame and waited
 * @param txKickErrors    TX kicks the kernel refused with a real error (e.g. ENETDOWN: the interface went down)
 * @param txDrainTimeouts writes failed with a {@link TxDrainTimeoutException}: nothing could be sent for
 *                        {@link XdpChannelOption#TX_DRAIN_TIMEOUT_MILLIS}
 * @param drops           dropped frames by reason
 * @param kernel          the kernel's XDP_STATISTICS, summed over the channel's sockets
 * @param fastPathLosses  times an interface's fast path was lost (interface deleted, program detached by
 *                        someone else) and its datagrams moved to the kernel socket
 * @param rxMultiBuffer   of the fast-path datagrams received, those that arrived over several frames
 * @param txMultiBuffer   of the fast-path datagrams sent, those sent as a chain of several frames
 * @param modes           what the kernel chose at bind: attach mode, per queue zero-copy, need-wakeup
 *                        and multi-buffer
 */
public record XdpChannelMetrics(long rxFastPackets, long rxFastBytes, long rxSlowPackets, long rxSlowBytes,
                                long rxCopied, long txFastPackets, long txFastBytes, long txZeroCopy,
                                long txSlowPackets, long txSlowBytes, long txRingFull, long txKickErrors,
                                long txDrainTimeouts, Map<DropReason, Long> drops, Kernel kernel,
                                long fastPathLosses, long rxMultiBuffer, long txMultiBuffer, Modes modes) {
    /**
     * The modes the kernel put the channel's fast path in, which may differ from those asked for
     * ({@link XdpChannelOption#XDP_MODE} {@code AUTO}, {@link XdpChannelOption#ZERO_COPY} {@code AUTO},
     * a kernel or driver without multi-buffer).
     *
     * @param attachMode the steering program's attach mode in effect: {@link XdpAttachMode#DRV} (native) or
     *                   {@link XdpAttachMode#SKB} (generic); null without a fast path
     * @param queues     the channel's AF_XDP socket on each interface queue; empty without a fast path
     */
    public record Modes(XdpAttachMode attachMode, List<QueueMode> queues) {
        /** No fast path. */
        public static final Modes NONE = new Modes(null, List.of());

        public Modes {
            queues = List.copyOf(queues);
        }

        /** True if datagrams larger than one UMEM frame use the fast path: every queue is multi-buffer. */
        public boolean multiBuffer() {
            return !queues.isEmpty() && queues.stream().allMatch(QueueMode::multiBuffer);
        }

        static Modes of(XdpFastPath fp) {
            if (fp == null) {
                return NONE;
            }
            QueueMode[] q = new QueueMode[fp.queueCount()];
            for (int i = 0; i < q.length; i++) {
                q[i] = new QueueMode(i, fp.isZeroCopy(i), fp.isNeedWakeup(i), fp.isMultiBuffer(i));
            }
            return new Modes(fp.isNativeMode() ? XdpAttachMode.DRV : XdpAttachMode.SKB, List.of(q));
        }

        @Override
        public String toString() {
            if (attachMode == null) {
                return "no fast path";
            }
            StringBuilder b = new StringBuilder(attachMode == XdpAttachMode.DRV ? "native" : "generic");
            for (QueueMode q : queues) {
                b.append(", ").append(q);
            }
            return b.toString();
        }
    }

    /**
     * How the kernel bound the channel's socket on one interface queue.
     *
     * @param queue       the queue id
     * @param zeroCopy    zero-copy mode ({@code XDP_OPTIONS_ZEROCOPY}), else copy mode
     * @param needWakeup  bound with {@code XDP_USE_NEED_WAKEUP}
     * @param multiBuffer bound with {@code XDP_USE_SG}: frames larger than a UMEM frame arrive and leave as chains
     */
    public record QueueMode(int queue, boolean zeroCopy, boolean needWakeup, boolean multiBuffer) {
        @Override
        public String toString() {
            return "queue " + queue + (zeroCopy ? " zero-copy" : " copy") + (needWakeup ? " need-wakeup" : "")
                    + (multiBuffer ? " multi-buffer" : " single-buffer");
        }
    }

    /**
     * The kernel's own counters for the channel's AF_XDP sockets ({@code XDP_STATISTICS}), summed
     * over its queues.
     *
     * @param rxDropped            frames the kernel dropped for other reasons than a full ring
     * @param rxInvalidDescs       invalid descriptors on the fill ring
     * @param txInvalidDescs       invalid descriptors on the TX ring
     * @param rxRingFull           frames dropped because the RX ring was full
     * @param rxFillRingEmptyDescs times the fill ring was empty when a frame arrived
     * @param txRingEmptyDescs     times the kernel found the TX ring empty
     */
    public record Kernel(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull,
                         long rxFillRingEmptyDescs, long txRingEmptyDescs) {
        static Kernel of(XdpStatistics s) {
            return new Kernel(s.rxDropped(), s.rxInvalidDescs(), s.txInvalidDescs(), s.rxRingFull(),
                    s.rxFillRingEmptyDescs(), s.txRingEmptyDescs());
        }
    }

    /** Total of {@link #drops()}. */
    public long dropped() {
        long sum = 0;
        for (long v : drops.values()) {
            sum += v;
        }
        return sum;
    }

    @Override
    public String toString() {
        return "rx fast " + rxFastPackets + " (copied " + rxCopied + ") slow " + rxSlowPackets
                + ", tx fast " + txFastPackets + " (zero-copy " + txZeroCopy + ") slow " + txSlowPackets
                + ", dropped " + dropped() + (dropped() > 0 ? " " + drops : "")
                + ", tx waits " + txRingFull + (txKickErrors > 0 ? ", tx kick errors " + txKickErrors : "")
                + (fastPathLosses > 0 ? ", fast path lost " + fastPathLosses + "x" : "")
                + (txDrainTimeouts > 0 ? ", tx drain timeouts " + txDrainTimeouts : "")
                + (rxMultiBuffer + txMultiBuffer > 0 ? ", multi-buffer rx " + rxMultiBuffer + " tx " + txMultiBuffer : "")
                + ", kernel " + kernel + ", " + modes;
    }

    /** The counters a channel keeps itself (kernel-socket traffic, write timeouts): written by its event loop only. */
    static final class SlowPathCounters {
        volatile long rxPackets;
        volatile long rxBytes;
        volatile long txPackets;
        volatile long txBytes;
        /** Writes failed because nothing could be sent for the drain timeout (either path). */
        volatile long txDrainTimeouts;
    }

    /** A snapshot of {@code slow} and of {@code fast} (null: the channel never had a fast path). */
    static XdpChannelMetrics of(SlowPathCounters slow, FastPathCounters fast, XdpStatistics kernel, long losses) {
        return of(slow, fast, kernel, losses, Modes.NONE);
    }

    /** As {@link #of(SlowPathCounters, FastPathCounters, XdpStatistics, long)}, with the modes the kernel chose. */
    static XdpChannelMetrics of(SlowPathCounters slow, FastPathCounters fast, XdpStatistics kernel, long losses,
                                Modes modes) {
        Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
        for (DropReason r : DropReason.values()) {
            d.put(r, fast == null ? 0L : fast.drops(r));
        }
        if (fast == null) {
            return new XdpChannelMetrics(0, 0, slow.rxPackets, slow.rxBytes, 0, 0, 0, 0, slow.txPackets,
                    slow.txBytes, 0, 0, slow.txDrainTimeouts, Map.copyOf(d), Kernel.of(kernel), losses, 0, 0, modes);
        }
        return new XdpChannelMetrics(fast.rxPackets(), fast.rxBytes(), slow.rxPackets, slow.rxBytes, fast.rxCopied(),
                fast.txPackets(), fast.txBytes(), fast.txZeroCopy(), slow.txPackets, slow.txBytes, fast.txRingFull(),
                fast.txKickErrors(), slow.txDrainTimeouts, Map.copyOf(d), Kernel.of(kernel), losses, fast.rxChains(),
                fast.txChains(), modes);
    }
}
