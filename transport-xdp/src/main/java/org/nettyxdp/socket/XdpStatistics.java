package org.nettyxdp.socket;

/**
 * The kernel's counters for one AF_XDP socket ({@code XDP_STATISTICS}).
 *
 * @param rxDropped             frames dropped for reasons other than a full ring (e.g. too long for a chunk)
 * @param rxInvalidDescs        invalid descriptors on the fill ring
 * @param txInvalidDescs        invalid descriptors on the TX ring
 * @param rxRingFull            frames dropped because the RX ring was full
 * @param rxFillRingEmptyDescs  times the fill ring was empty when a frame arrived
 * @param txRingEmptyDescs      times the TX ring was empty when the kernel looked
 */
public record XdpStatistics(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull,
                            long rxFillRingEmptyDescs, long txRingEmptyDescs) {
    /** All zero. */
    public static final XdpStatistics ZERO = new XdpStatistics(0, 0, 0, 0, 0, 0);

    /** Field-wise sum, for adding up the sockets of all queues. */
    public XdpStatistics plus(XdpStatistics o) {
        return new XdpStatistics(rxDropped + o.rxDropped, rxInvalidDescs + o.rxInvalidDescs,
                txInvalidDescs + o.txInvalidDescs, rxRingFull + o.rxRingFull,
                rxFillRingEmptyDescs + o.rxFillRingEmptyDescs, txRingEmptyDescs + o.txRingEmptyDescs);
    }
}
