package org.nettyxdp.benchmarks.harness;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scale-out server: {@code n} event loops, loop {@code i} pinned to {@code cpus[i]}, and {@code n}
 * XDP channels (DRV) with {@code SO_REUSEPORT} bound to the same address and port, one per loop, each
 * with its own counting handler, so each loop's share of the packets is known.
 */
final class ShardedServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final List<XdpDatagramChannel> channels = new ArrayList<>();
    private final List<Server.Counting> handlers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    ShardedServer(InetSocketAddress bind, int n, boolean echo, int[] cpus) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        ThreadFactory factory = r -> {
            int i = next.getAndIncrement();
            Thread t = new FastThreadLocalThread(() -> {
                Affinity.pin(cpus[i % cpus.length]);
                r.run();
            }, "server-shard" + i);
            t.setDaemon(true);
            synchronized (threads) {
                threads.add(t);
            }
            return t;
        };
        group = new XdpEventLoopGroup(n, factory);
        try {
            InetSocketAddress at = bind;
            for (int i = 0; i < n; i++) {
                Server.Counting h = new Server.Counting(echo);
                XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(group)
                        .channel(XdpDatagramChannel.class)
                        .option(XdpChannelOption.SO_REUSEPORT, true)
                        .option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV)
                        .handler(h).bind(at).sync().channel();
                if (!Server.awaitFastPath(ch)) {
                    throw new IllegalStateException("XDP fast path not active on " + at);
                }
                channels.add(ch);
                handlers.add(h);
                at = ch.localAddress();
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** Datagrams all loops have seen. */
    long count() {
        long sum = 0;
        for (Server.Counting h : handlers) {
            sum += h.count();
        }
        return sum;
    }

    /** Datagrams each loop has seen. */
    long[] counts() {
        long[] c = new long[handlers.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = handlers.get(i).count();
        }
        return c;
    }

    List<Thread> loopThreads() {
        synchronized (threads) {
            return List.copyOf(threads);
        }
    }

    /** Each channel's RX queues, e.g. {@code [0] [1]}. */
    String queues() {
        StringBuilder sb = new StringBuilder();
        for (XdpDatagramChannel ch : channels) {
            sb.append(Arrays.toString(ch.fastPathQueues()));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (XdpDatagramChannel ch : channels) {
            ch.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
