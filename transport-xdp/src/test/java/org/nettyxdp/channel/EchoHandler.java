package org.nettyxdp.channel;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

/** Echoes every datagram to its sender, reusing the received buffer (zero-copy on the fast path). */
@ChannelHandler.Sharable
final class EchoHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    EchoHandler() {
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
