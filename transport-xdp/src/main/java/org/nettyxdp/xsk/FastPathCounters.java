package org.nettyxdp.xsk;

import org.nettyxdp.packet.DropReason;

/**
 * The live counters of one {@link XdpFastPath}: written by its event loop only (once per batch where
 * the hot path allows), read by anyone.
 */
public final class FastPathCounters {
    volatile long rxPackets;
    volatile long rxBytes;
    volatile long rxCopied;
    volatile long rxChains;
    volatile long txChains;
    volatile long txPackets;
    volatile long txBytes;
    volatile long txZeroCopy;
    volatile long txRingFull;
    volatile long txKickErrors;
    private final long[] drops = new long[DropReason.values().length];

    /** Adds these counters to {@code sum}. */
    void addTo(FastPathCounters sum) {
        sum.rxPackets += rxPackets;
        sum.rxBytes += rxBytes;
        sum.rxCopied += rxCopied;
        sum.txPackets += txPackets;
        sum.txBytes += txBytes;
        sum.txZeroCopy += txZeroCopy;
        sum.txRingFull += txRingFull;
        sum.txKickErrors += txKickErrors;
        sum.rxChains += rxChains;
        sum.txChains += txChains;
        for (int i = 0; i < drops.length; i++) {
            sum.drops[i] += drops[i];
        }
    }

    void drop(DropReason reason) {
        drops[reason.ordinal()]++;
    }

    void drop(DropReason reason, long n) {
        drops[reason.ordinal()] += n;
    }

    /** Datagrams received through AF_XDP. */
    public long rxPackets() {
        return rxPackets;
    }

    /** Their payload bytes. */
    public long rxBytes() {
        return rxBytes;
    }

    /** Received datagrams copied out of the UMEM because the application held too many frames. */
    public long rxCopied() {
        return rxCopied;
    }

    /** Of the datagrams received, those that arrived over several frames (multi-buffer). */
    public long rxChains() {
        return rxChains;
    }

    /** Of the datagrams sent, those sent over several frames (a descriptor chain). */
    public long txChains() {
        return txChains;
    }

    /** Datagrams sent through AF_XDP. */
    public long txPackets() {
        return txPackets;
    }

    /** Their payload bytes. */
    public long txBytes() {
        return txBytes;
    }

    /** Of those, sent from the frame they were received in. */
    public long txZeroCopy() {
        return txZeroCopy;
    }

    /** Times a write found no TX slot or free frame. */
    public long txRingFull() {
        return txRingFull;
    }

    /** TX kicks the kernel refused with a real error. */
    public long txKickErrors() {
        return txKickErrors;
    }

    /** Frames dropped for {@code reason}. */
    public long drops(DropReason reason) {
        return drops[reason.ordinal()];
    }
}
