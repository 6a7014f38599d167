/**
 * Internal: the AF_XDP core. {@link org.nettyxdp.socket.Umem} (the frame area), the four rings and
 * {@link org.nettyxdp.socket.XdpSocket}. Not part of the public API.
 */
package org.nettyxdp.socket;
