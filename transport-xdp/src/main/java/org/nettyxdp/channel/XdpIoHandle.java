package org.nettyxdp.channel;

import io.netty.channel.IoHandle;

/**
 * Something an {@link XdpIoHandler} drives: an {@link XdpDatagramChannel}'s unsafe. It is called
 * with an {@link XdpIoEvent} when one of its descriptors is ready.
 */
interface XdpIoHandle extends IoHandle {
    /** Closes the channel; never throws. */
    @Override
    void close();
}
