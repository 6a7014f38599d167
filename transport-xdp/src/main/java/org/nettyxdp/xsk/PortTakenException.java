package org.nettyxdp.xsk;

import java.io.IOException;

/**
 * The port cannot be steered to this channel: another XDP channel of the process has the same (port,
 * address), or another process's socket shares the port and the kernel would give it the datagrams.
 */
public final class PortTakenException extends IOException {
    private static final long serialVersionUID = 1L;

    PortTakenException(String message) {
        super(message);
    }
}
