package org.nettyxdp.testing;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

/**
 * Echoes every datagram to its sender, reusing the received buffer (zero-copy on the fast path), and
 * flushes at the end of each read batch. Sharable: one instance can serve several channels.
 */
@ChannelHandler.Sharable
public final class EchoHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    public EchoHandler() {
        super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        ctx.write(new DatagramPacket(packet.content(), packet.sender()));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }
}
