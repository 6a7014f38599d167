package org.nettyxdp.channel;

import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.socket.ZeroCopyMode;

/** Maps the channel options' attach and zero-copy modes onto the fast path's own (both configs). */
final class FastPathModes {
    private FastPathModes() {
    }

    /** {@link XdpChannelOption#XDP_MODE} as the steering attachment takes it. */
    static XdpMode attach(XdpAttachMode mode) {
        return switch (mode) {
            case AUTO -> XdpMode.AUTO;
            case SKB -> XdpMode.SKB;
            case DRV -> XdpMode.DRV;
        };
    }

    /** {@link XdpChannelOption#ZERO_COPY} as the AF_XDP bind takes it. */
    static ZeroCopyMode zeroCopy(XdpZeroCopy mode) {
        return switch (mode) {
            case AUTO -> ZeroCopyMode.AUTO;
            case REQUIRED -> ZeroCopyMode.REQUIRED;
            case OFF -> ZeroCopyMode.OFF;
        };
    }
}
