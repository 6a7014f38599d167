package org.nettyxdp.channel;

import java.net.SocketAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where an {@link XdpRawChannel} binds: an interface, the {@link XdpFrameFilter} saying which of its
 * frames the channel takes, and its RX queues (all of them, or a chosen set).
 *
 * <pre>{@code
 * new XdpRawAddress("eth0", XdpFrameFilter.udpDestinationPort(7))            // every queue
 * new XdpRawAddress("eth0", XdpFrameFilter.etherType(0x88b5), 0, 1)        // queues 0 and 1
 * }</pre>
 */
public final class XdpRawAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    private final String interfaceName;
    private final transient XdpFrameFilter filter;
    private final int[] queues;

    /**
     * @param interfaceName the interface, e.g. {@code "eth0"}
     * @param filter        the frames to take
     * @param queues        RX queues to bind to; none: every RX queue of the interface
     */
    public XdpRawAddress(String interfaceName, XdpFrameFilter filter, int... queues) {
        this.interfaceName = Objects.requireNonNull(interfaceName, "interfaceName");
        this.filter = Objects.requireNonNull(filter, "filter");
        this.queues = queues.clone();
        for (int q : this.queues) {
            if (q < 0 || q >= 64) {
                throw new IllegalArgumentException("queue " + q + " outside [0, 64)");
            }
        }
    }

    public String interfaceName() {
        return interfaceName;
    }

    public XdpFrameFilter filter() {
        return filter;
    }

    /** The chosen RX queues; empty for every queue of the interface. */
    public int[] queues() {
        return queues.clone();
    }

    int[] queuesOrNull() {
        return queues.length == 0 ? null : queues.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof XdpRawAddress a && a.interfaceName.equals(interfaceName)
                && a.filter.toString().equals(filter.toString()) && Arrays.equals(a.queues, queues);
    }

    @Override
    public int hashCode() {
        return interfaceName.hashCode() * 31 + Arrays.hashCode(queues);
    }

    @Override
    public String toString() {
        return interfaceName + (queues.length == 0 ? "" : Arrays.toString(queues)) + ':' + filter;
    }
}
