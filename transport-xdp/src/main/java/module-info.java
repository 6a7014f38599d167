/**
 * netty-xdp: a Netty transport that moves UDP over Linux AF_XDP sockets.
 *
 * <p>Only the Netty-facing packages are exported: {@code channel} (event loop group, channel, options),
 * {@code buffer} (the zero-copy UMEM {@code ByteBuf}) and {@code packet} (frame and header views). The
 * layers below them (system calls, netlink, BPF, AF_XDP sockets) are internal.
 */
module org.nettyxdp.transport {
    requires transitive io.netty.transport;
    requires transitive io.netty.buffer;
    requires transitive io.netty.common;
    requires io.netty.transport.unix.common;

    exports org.nettyxdp.channel;
    exports org.nettyxdp.buffer;
    exports org.nettyxdp.packet;
}
