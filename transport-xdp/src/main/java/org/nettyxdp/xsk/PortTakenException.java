package org.nettyxdp.xsk;

import java.io.IOException;

/** The port map already has an entry for the (port, address): another XDP channel serves it here. */
public final class PortTakenException extends IOException {
    private static final long serialVersionUID = 1L;

    PortTakenException(String message) {
        super(message);
    }
}
