package org.nettyxdp.channel;

import io.netty.channel.IoHandle;

/**
 * Something an {@link XdpIoHandler} drives: an {@link XdpDatagramChannel}'s unsafe. It is called
 * with an {@link XdpIoEvent} when one of its descriptors is ready, or when it asked to
 * {@link XdpIoOps#RUN_AGAIN run again} (then the event's descriptor is -1).
 */
interface XdpIoHandle extends IoHandle {
}
