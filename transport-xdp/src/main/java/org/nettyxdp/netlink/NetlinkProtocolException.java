package org.nettyxdp.netlink;

import java.io.IOException;

/**
 * A netlink reply this client cannot trust: truncated, with inconsistent lengths, a malformed
 * attribute or an unexpected shape. Never a kernel errno (that is {@link NetlinkException}).
 */
public class NetlinkProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** A malformed reply described by {@code message}. */
    public NetlinkProtocolException(String message) {
        super(message);
    }
}
