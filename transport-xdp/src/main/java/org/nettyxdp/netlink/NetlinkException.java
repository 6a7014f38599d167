package org.nettyxdp.netlink;

import org.nettyxdp.sys.SyscallException;

/**
 * The kernel answered a netlink request with an error ({@code NLMSG_ERROR}, or a dump that ended with
 * one). {@link #errno()} is the kernel's errno, {@link #call()} the request type such as
 * {@code RTM_GETROUTE}; the message names the errno and carries the kernel's extended-ack text if it
 * sent one, e.g. {@code "RTM_GETLINK failed: ENODEV (no such network interface): no such interface: eth9"}.
 */
public class NetlinkException extends SyscallException {
    private static final long serialVersionUID = 1L;

    private final String extAck;

    /** A failed request; {@code extAck} is the kernel's explanation or {@code null}. */
    public NetlinkException(String request, int errno, String detail, String extAck) {
        super(request, errno, join(detail, extAck));
        this.extAck = extAck;
    }

    private static String join(String detail, String extAck) {
        if (extAck == null || extAck.isEmpty()) {
            return detail;
        }
        return detail == null || detail.isEmpty() ? "kernel says: " + extAck : detail + "; kernel says: " + extAck;
    }

    /** The kernel's extended-ack message ({@code NLMSGERR_ATTR_MSG}), or {@code null} if it sent none. */
    public String extAck() {
        return extAck;
    }
}
