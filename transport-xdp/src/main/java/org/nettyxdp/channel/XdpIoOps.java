package org.nettyxdp.channel;

import io.netty.channel.IoOps;

/**
 * What an {@link XdpIoHandle} asks its {@link XdpIoHandler} for: watch descriptor {@code fd} for
 * epoll {@code events}; submitting the same descriptor again changes its events, and events 0 stops
 * watching it. Descriptors are level-triggered: a handle that stops a bounded batch with work left
 * is called again on the next loop iteration.
 *
 * @param fd     a descriptor the handle owns (an AF_XDP socket or the companion UDP socket)
 * @param events epoll event bits ({@code EPOLLIN}, {@code EPOLLOUT})
 */
record XdpIoOps(int fd, int events) implements IoOps {
}
