package org.nettyxdp.channel;

import io.netty.channel.IoEvent;

/**
 * A readiness report from {@link XdpIoHandler}: descriptor {@code fd} is ready for {@code events}.
 * One instance per handler is reused for every event; handles must not keep it.
 */
final class XdpIoEvent implements IoEvent {
    private int fd;
    private int events;

    XdpIoEvent set(int fd, int events) {
        this.fd = fd;
        this.events = events;
        return this;
    }

    int fd() {
        return fd;
    }

    int events() {
        return events;
    }

    @Override
    public String toString() {
        return "XdpIoEvent(fd=" + fd + ", events=0x" + Integer.toHexString(events) + ')';
    }
}
