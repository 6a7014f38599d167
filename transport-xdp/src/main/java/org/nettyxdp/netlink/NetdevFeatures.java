package org.nettyxdp.netlink;

/**
 * What a device reports through the kernel's {@code netdev} generic-netlink family
 * ({@code NETDEV_CMD_DEV_GET}): its XDP features and its AF_XDP TX-metadata features. A kernel or
 * device that reports nothing has {@link #NONE}.
 *
 * @param xdpFeatures {@code NETDEV_A_DEV_XDP_FEATURES} ({@code NETDEV_XDP_ACT_*} bits)
 * @param xskFeatures {@code NETDEV_A_DEV_XSK_FEATURES} ({@code NETDEV_XSK_FLAGS_*} bits)
 */
public record NetdevFeatures(long xdpFeatures, long xskFeatures) {
    /** Nothing advertised. */
    public static final NetdevFeatures NONE = new NetdevFeatures(0, 0);

    public static final long XDP_ACT_BASIC = 1;
    public static final long XDP_ACT_REDIRECT = 1 << 1;
    public static final long XDP_ACT_NDO_XMIT = 1 << 2;
    public static final long XDP_ACT_XSK_ZEROCOPY = 1 << 3;
    public static final long XDP_ACT_HW_OFFLOAD = 1 << 4;
    public static final long XDP_ACT_RX_SG = 1 << 5;
    public static final long XDP_ACT_NDO_XMIT_SG = 1 << 6;

    public static final long XSK_TX_TIMESTAMP = 1;
    public static final long XSK_TX_CHECKSUM = 1 << 1;
    public static final long XSK_TX_LAUNCH_TIME_FIFO = 1 << 2;

    /** The device computes checksums from AF_XDP TX metadata ({@code csum_start}/{@code csum_offset}). */
    public boolean txChecksumOffload() {
        return (xskFeatures & XSK_TX_CHECKSUM) != 0;
    }

    /** The device reports TX timestamps through AF_XDP TX metadata. */
    public boolean txTimestamp() {
        return (xskFeatures & XSK_TX_TIMESTAMP) != 0;
    }

    /** The device honours a launch time in AF_XDP TX metadata. */
    public boolean txLaunchTime() {
        return (xskFeatures & XSK_TX_LAUNCH_TIME_FIFO) != 0;
    }

    /** The driver binds AF_XDP sockets in zero-copy mode. */
    public boolean xskZeroCopy() {
        return (xdpFeatures & XDP_ACT_XSK_ZEROCOPY) != 0;
    }
}
