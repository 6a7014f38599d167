package org.nettyxdp.channel;

import io.netty.channel.IoOps;

/**
 * What an {@link XdpIoHandle} asks its {@link XdpIoHandler} for: watch descriptor {@code fd} for
 * epoll {@code events} (0 stops watching it), or {@link #RUN_AGAIN}: call the handle once more
 * without waiting, because it stopped a bounded batch with work left.
 *
 * @param fd     a descriptor the handle owns (an AF_XDP socket or the companion UDP socket)
 * @param events epoll event bits ({@code EPOLLIN}, {@code EPOLLOUT})
 */
record XdpIoOps(int fd, int events) implements IoOps {
    /** Run the handle again on the next loop iteration, without blocking first. */
    static final XdpIoOps RUN_AGAIN = new XdpIoOps(-1, 0);
}
