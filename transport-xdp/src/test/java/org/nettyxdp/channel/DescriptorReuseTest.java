package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A closed channel's descriptor number, reused by a channel registered on the same loop before the
 * closed one is deregistered, must stay watched: the old registration must not remove it from epoll.
 * Kernel sockets only (FAST_PATH=false), so no privileges needed.
 */
class DescriptorReuseTest {
    private static XdpEventLoopGroup group;

    @BeforeAll
    static void start() {
        group = new XdpEventLoopGroup(1);
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aReusedDescriptorKeepsReceiving() throws Exception {
        EventLoop loop = group.next();
        XdpDatagramChannel first = channel();
        loop.register(first).sync();
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        CompletableFuture<XdpDatagramChannel> second = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                int oldFd = first.companion().fd();
                // On the loop: close() closes the socket now, deregistration runs as a later task.
                first.unsafe().close(first.voidPromise());
                XdpDatagramChannel next = channel();
                next.pipeline().addLast(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        ByteBuf c = p.content();
                        received.add(c.toString(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                });
                if (next.companion().fd() != oldFd) {
                    next.close();
                    second.complete(null);
                    return;
                }
                next.unsafe().register(loop, next.newPromise());
                second.complete(next);
            } catch (Throwable t) {
                second.completeExceptionally(t);
            }
        });
        XdpDatagramChannel next = second.get(5, TimeUnit.SECONDS);
        assumeTrue(next != null, "the new socket did not get the closed one's descriptor number");
        try {
            next.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync();
            try (DatagramChannel sender = DatagramChannel.open()) {
                sender.send(ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
                        next.localAddress());
            }
            String got = received.poll(5, TimeUnit.SECONDS);
            assertNotNull(got, "the channel on the reused descriptor received nothing");
            assertEquals("hello", got);
        } finally {
            next.close().sync();
        }
    }

    private static XdpDatagramChannel channel() {
        XdpDatagramChannel ch = new XdpDatagramChannel(SocketProtocolFamily.INET);
        ch.config().setOption(XdpChannelOption.FAST_PATH, false);
        return ch;
    }
}
