package org.nettyxdp.netlink;

/**
 * The XDP programs attached to an interface, from the {@code IFLA_XDP} nest of a link message.
 * A program id is 0 when no program is attached in that mode.
 *
 * @param mode            {@link #NONE}, {@link #DRIVER}, {@link #GENERIC}, {@link #OFFLOAD} or
 *                        {@link #MULTI} (programs in more than one mode)
 * @param programId       the program's id when exactly one mode is attached ({@code IFLA_XDP_PROG_ID}), else 0
 * @param driverProgramId native (driver) mode program ({@code IFLA_XDP_DRV_PROG_ID})
 * @param genericProgramId generic/SKB mode program ({@code IFLA_XDP_SKB_PROG_ID})
 * @param offloadProgramId hardware-offloaded program ({@code IFLA_XDP_HW_PROG_ID})
 */
public record XdpAttachment(int mode, int programId, int driverProgramId, int genericProgramId,
                            int offloadProgramId) {
    /** {@code XDP_ATTACHED_NONE}. */
    public static final int NONE = 0;
    /** {@code XDP_ATTACHED_DRV}: native mode. */
    public static final int DRIVER = 1;
    /** {@code XDP_ATTACHED_SKB}: generic mode. */
    public static final int GENERIC = 2;
    /** {@code XDP_ATTACHED_HW}: offloaded. */
    public static final int OFFLOAD = 3;
    /** {@code XDP_ATTACHED_MULTI}: more than one mode. */
    public static final int MULTI = 4;

    /** No program attached. */
    public static final XdpAttachment DETACHED = new XdpAttachment(NONE, 0, 0, 0, 0);

    /** True if any XDP program is attached. */
    public boolean isAttached() {
        return mode != NONE;
    }

    static XdpAttachment decode(NlAttrs xdp) throws NetlinkProtocolException {
        int mode = xdp.u8(Rtnl.IFLA_XDP_ATTACHED, NONE);
        if (mode == NONE) {
            return DETACHED;
        }
        return new XdpAttachment(mode, xdp.u32(Rtnl.IFLA_XDP_PROG_ID, 0), xdp.u32(Rtnl.IFLA_XDP_DRV_PROG_ID, 0),
                xdp.u32(Rtnl.IFLA_XDP_SKB_PROG_ID, 0), xdp.u32(Rtnl.IFLA_XDP_HW_PROG_ID, 0));
    }
}
