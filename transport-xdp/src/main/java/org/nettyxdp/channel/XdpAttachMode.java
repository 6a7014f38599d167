package org.nettyxdp.channel;

/** How the steering program is attached to the interface. */
public enum XdpAttachMode {
    /** Native (driver) mode where supported, else generic. */
    AUTO,
    /** Generic mode ({@code XDP_FLAGS_SKB_MODE}): works on every interface, including {@code lo}. */
    SKB,
    /** Native mode ({@code XDP_FLAGS_DRV_MODE}): fails where the driver lacks XDP support. */
    DRV
}
