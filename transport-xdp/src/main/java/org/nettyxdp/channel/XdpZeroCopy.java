package org.nettyxdp.channel;

/** Whether the AF_XDP sockets bind in zero-copy mode. */
public enum XdpZeroCopy {
    /** Zero-copy where the driver supports it, copy mode otherwise. */
    AUTO,
    /** Zero-copy or fail. */
    REQUIRED,
    /** Always copy mode. */
    OFF
}
