package org.nettyxdp.testing;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * Collects what each datagram read says, by default its text, into {@link #received} (for a test to
 * poll); the datagram is released after. One per channel.
 */
public final class Collector extends SimpleChannelInboundHandler<DatagramPacket> {
    /** One entry per datagram read, in order. */
    public final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final Function<DatagramPacket, String> describe;

    /** Collects each datagram's text (UTF-8). */
    public Collector() {
        this(Collector::text);
    }

    /** Collects {@code describe(datagram)}. */
    public Collector(Function<DatagramPacket, String> describe) {
        this.describe = describe;
    }

    /** The datagram's readable bytes as UTF-8 text. */
    public static String text(DatagramPacket datagram) {
        return datagram.content().toString(StandardCharsets.UTF_8);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
        received.add(describe.apply(msg));
    }
}
