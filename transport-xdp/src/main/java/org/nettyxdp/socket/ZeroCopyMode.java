package org.nettyxdp.socket;

/** Whether an AF_XDP socket binds in zero-copy mode. */
public enum ZeroCopyMode {
    /** Zero-copy where the driver supports it, copy mode otherwise (the kernel picks). */
    AUTO,
    /** Zero-copy or fail with {@code EOPNOTSUPP}. */
    REQUIRED,
    /** Always copy mode. */
    OFF;

    int bindFlags() {
        return switch (this) {
            case AUTO -> 0;
            case REQUIRED -> XdpConstants.XDP_ZEROCOPY;
            case OFF -> XdpConstants.XDP_COPY;
        };
    }
}
