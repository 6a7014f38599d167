package org.nettyxdp.channel;

import java.io.IOException;

/**
 * A write failed because the channel could not send for longer than
 * {@link XdpChannelOption#TX_DRAIN_TIMEOUT_MILLIS}: the AF_XDP TX ring (or the kernel socket's
 * buffer) stayed full, typically because the interface is down or its driver stopped sending.
 */
public final class TxDrainTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    TxDrainTimeoutException(String message) {
        super(message);
    }
}
