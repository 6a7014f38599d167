package org.nettyxdp.testsuite;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.SocketProtocolFamily;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Which path the testsuite's datagrams took through our channels (AF_XDP fast path or companion
 * socket), per test class: every {@link XdpDatagramChannel} the permutation creates reports its
 * {@link XdpChannelMetrics} when it is closed. The totals show the tests did exercise AF_XDP; they
 * are logged and written to {@code target/xdp-paths-<run>.txt}.
 */
final class PathStats {
    /** Per test class counters. */
    static final class Totals {
        final LongAdder channels = new LongAdder();
        final LongAdder fastPathChannels = new LongAdder();
        final LongAdder rxFast = new LongAdder();
        final LongAdder rxSlow = new LongAdder();
        final LongAdder txFast = new LongAdder();
        final LongAdder txSlow = new LongAdder();
        final Map<DropReason, LongAdder> drops = new ConcurrentHashMap<>();
        final Map<String, LongAdder> interfaces = new ConcurrentHashMap<>();

        void add(XdpDatagramChannel ch, XdpChannelMetrics m) {
            channels.increment();
            if (ch.isFastPathActive()) {
                fastPathChannels.increment();
                interfaces.computeIfAbsent(ch.fastPathInterface(), k -> new LongAdder()).increment();
            }
            rxFast.add(m.rxFastPackets());
            rxSlow.add(m.rxSlowPackets());
            txFast.add(m.txFastPackets());
            txSlow.add(m.txSlowPackets());
            m.drops().forEach((r, n) -> {
                if (n > 0) {
                    drops.computeIfAbsent(r, k -> new LongAdder()).add(n);
                }
            });
        }

        long rxFast() {
            return rxFast.sum();
        }

        long txFast() {
            return txFast.sum();
        }

        @Override
        public String toString() {
            Map<String, Long> ifs = new TreeMap<>();
            interfaces.forEach((k, v) -> ifs.put(k, v.sum()));
            Map<DropReason, Long> d = new TreeMap<>();
            drops.forEach((k, v) -> d.put(k, v.sum()));
            return "XDP channels " + channels.sum() + " (fast path on " + fastPathChannels.sum() + " " + ifs
                    + "), rx fast " + rxFast.sum() + " slow " + rxSlow.sum() + ", tx fast " + txFast.sum()
                    + " slow " + txSlow.sum() + ", drops " + d;
        }
    }

    private static final Map<String, Totals> BY_CLASS = new ConcurrentHashMap<>();
    private static volatile String current = "(none)";

    private PathStats() {
    }

    static void startClass(String testClass) {
        current = testClass;
    }

    static Totals totals(String testClass) {
        return BY_CLASS.computeIfAbsent(testClass, k -> new Totals());
    }

    /** A new channel of {@code family} whose metrics count for the test class running now. */
    static XdpDatagramChannel newChannel(SocketProtocolFamily family) {
        XdpDatagramChannel ch = family == null ? new XdpDatagramChannel() : new XdpDatagramChannel(family);
        Totals totals = totals(current);
        ch.pipeline().addFirst("xdp-path-stats", new ChannelDuplexHandler() {
            private boolean counted;

            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
                if (!counted) {
                    counted = true;
                    totals.add(ch, ch.metrics());
                }
                super.close(ctx, promise);
            }
        });
        return ch;
    }

    /** Logs the class's totals and appends them to {@code target/xdp-paths-<run>.txt}. */
    static Totals report(String testClass) {
        Totals t = totals(testClass);
        String run = "1".equals(System.getenv("NXTS_ROUTE_LOCALNET")) ? "route-localnet" : "defaults";
        String line = testClass + " [" + run + "]: " + t;
        System.out.println(line);
        try {
            Files.writeString(Path.of("target", "xdp-paths-" + run + ".txt"), line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot write path statistics: " + e);
        }
        return t;
    }
}
