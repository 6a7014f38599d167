package org.nettyxdp.bpf;

/** How an XDP program is attached to a device ({@code XDP_FLAGS_*_MODE}). */
public enum XdpMode {
    /** Let the kernel pick: native if the driver supports it, generic otherwise (flags 0). */
    AUTO(0),
    /** Generic XDP in the core network stack ({@code XDP_FLAGS_SKB_MODE}): works on any device, slower. */
    SKB(BpfCommand.XDP_FLAGS_SKB_MODE),
    /** Native XDP in the driver ({@code XDP_FLAGS_DRV_MODE}): fast, needs driver support. */
    DRV(BpfCommand.XDP_FLAGS_DRV_MODE);

    private final int flags;

    XdpMode(int flags) {
        this.flags = flags;
    }

    /** The {@code XDP_FLAGS_*} value passed in {@code link_create.flags}. */
    public int flags() {
        return flags;
    }
}
