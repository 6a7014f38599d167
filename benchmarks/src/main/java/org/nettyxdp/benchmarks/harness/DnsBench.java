package org.nettyxdp.benchmarks.harness;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;
import org.nettyxdp.examples.DnsResponder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The application row: the examples' codec-dns responder ({@link DnsResponder}, 1 000 names) on NIO,
 * epoll and XDP, loaded by {@code dnsperf} (Debian's dnsperf) from the peer namespace of the veth that
 * {@code benchmarks/run-dns-bench.sh} makes. Each round runs every transport once, in alternating
 * order (ABC, CBA, ...), each at a fixed rate (server CPU per query at equal load) and then flat out
 * (queries per second); the table shows each figure's median over the rounds with its range.
 *
 * <p>System properties: {@code bench.host} ({@code queues:hostIf:peerIf:ns:hostIp:peerIp}),
 * {@code bench.serverCpu} (0), {@code bench.loadCpu} (1), {@code bench.dns.transports}
 * ({@code nio,epoll,xdp_drv}; also {@code xdp_skb}), {@code bench.dns.rounds} (5),
 * {@code bench.dns.seconds} (4), {@code bench.dns.rate} (20000 queries/s), {@code bench.dns.dnsperf}.
 */
public final class DnsBench {
    private static final int PORT = 5300;
    private static final int NAMES = 1000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** The server transports compared. */
    enum Transport {
        NIO, EPOLL, XDP_DRV, XDP_SKB;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One dnsperf run: completed queries per second, share lost, and the server's CPU per completed
     * query in µs: its event loop thread, its whole JVM, and everything its CPU did (kernel included;
     * on a shared machine that counts the neighbours too, so only the JSON keeps it).
     */
    record Run(double qps, double lostPercent, double loopUs, double jvmUs, double cpuUs, String note) {
    }

    private final BenchHost host;
    private final int serverCpu = Integer.getInteger("bench.serverCpu", 0);
    private final int loadCpu = Integer.getInteger("bench.loadCpu", 1);
    private final int rounds = Integer.getInteger("bench.dns.rounds", 5);
    private final int seconds = Integer.getInteger("bench.dns.seconds", 4);
    private final int rate = Integer.getInteger("bench.dns.rate", 20_000);
    private final String dnsperf = System.getProperty("bench.dns.dnsperf", "dnsperf");
    private final Path queries;
    private final Map<String, List<InetAddress>> names = new LinkedHashMap<>();

    private DnsBench(BenchHost host) throws IOException {
        this.host = host;
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < NAMES; i++) {
            String name = "host" + i + ".apps.test";
            names.put(name, List.of(InetAddress.getByAddress(new byte[] {(byte) 198, 18, (byte) (i >> 8), (byte) i})));
            lines.add(name + " A");
        }
        queries = Files.createTempFile("dns-queries", ".txt");
        Files.write(queries, lines);
        queries.toFile().deleteOnExit();
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        String spec = System.getProperty("bench.host");
        if (spec == null) {
            System.err.println("set -Dbench.host (benchmarks/run-dns-bench.sh does)");
            System.exit(2);
        }
        List<Transport> transports = new ArrayList<>();
        for (String s : System.getProperty("bench.dns.transports", "nio,epoll,xdp_drv").split(",")) {
            transports.add(Transport.valueOf(s.trim().toUpperCase(Locale.ROOT)));
        }
        new DnsBench(BenchHost.parse(spec)).run(transports);
    }

    private void run(List<Transport> transports) throws Exception {
        System.out.printf("DNS: codec-dns responder, %d names, dnsperf (1 thread, 100 outstanding) from the peer"
                        + " namespace; server loop cpu%d, dnsperf cpu%d; %d rounds of %d s per run, fixed rate %d q/s%n",
                NAMES, serverCpu, loadCpu, rounds, seconds, rate);
        Map<Transport, List<Run>> fixed = new EnumMap<>(Transport.class);
        Map<Transport, List<Run>> max = new EnumMap<>(Transport.class);
        for (int round = 0; round < rounds; round++) {
            List<Transport> order = new ArrayList<>(transports);
            if (round % 2 == 1) {
                java.util.Collections.reverse(order);
            }
            for (Transport t : order) {
                try (Server server = Server.start(t, new InetSocketAddress(host.hostIp(), PORT), serverCpu, names)) {
                    dnsperf(server, seconds, 0); // warm-up: JIT, pools
                    Run f = dnsperf(server, seconds, rate);
                    Run m = dnsperf(server, seconds, 0);
                    fixed.computeIfAbsent(t, k -> new ArrayList<>()).add(f);
                    max.computeIfAbsent(t, k -> new ArrayList<>()).add(m);
                    System.out.printf("round %d %-8s fixed: %s%n               max:   %s%n", round + 1, t.label(),
                            describe(f), describe(m));
                }
            }
        }
        System.out.println();
        System.out.printf("DNS responder, medians of %d rounds [min-max]%n", rounds);
        System.out.printf("%-8s | %-41s | %-41s%n", "", "offered " + rate + " q/s", "flat out");
        System.out.printf("%-8s | %-20s %-20s | %-20s %-20s | %s%n", "", "loop µs/query", "JVM µs/query",
                "queries/s", "loop µs/query", "lost % (fixed, flat out)");
        StringBuilder json = new StringBuilder("[\n");
        for (Transport t : transports) {
            List<Run> f = fixed.get(t);
            List<Run> m = max.get(t);
            System.out.printf("%-8s | %-20s %-20s | %-20s %-20s | %s, %s (achieved at fixed rate: %s q/s)%n",
                    t.label(), stat(f, Run::loopUs, "%.2f"), stat(f, Run::jvmUs, "%.2f"), stat(m, Run::qps, "%.0f"),
                    stat(m, Run::loopUs, "%.2f"), stat(f, Run::lostPercent, "%.3f"), stat(m, Run::lostPercent, "%.3f"),
                    stat(f, Run::qps, "%.0f"));
            json.append(String.format("  {\"transport\": \"%s\", \"rate\": %d, \"fixedLoopUs\": %.3f, \"fixedJvmUs\": %.3f,"
                            + " \"fixedCpuUs\": %.3f, \"fixedLostPercent\": %.4f, \"maxQps\": %.0f, \"maxLoopUs\": %.3f,"
                            + " \"maxLostPercent\": %.4f}%s%n", t.label(), rate, median(f, Run::loopUs),
                    median(f, Run::jvmUs), median(f, Run::cpuUs), median(f, Run::lostPercent), median(m, Run::qps),
                    median(m, Run::loopUs), median(m, Run::lostPercent), t == transports.get(transports.size() - 1) ? "" : ","));
        }
        json.append("]\n");
        Files.writeString(Path.of("dns-bench-results.json"), json);
        System.out.println("wrote dns-bench-results.json");
    }

    private static String describe(Run r) {
        return String.format("%8.0f q/s, lost %.3f %%, loop %.2f µs/q, JVM %.2f µs/q, cpu %.2f µs/q%s", r.qps(),
                r.lostPercent(), r.loopUs(), r.jvmUs(), r.cpuUs(), r.note().isEmpty() ? "" : " | " + r.note());
    }

    private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String stat(List<Run> runs, java.util.function.ToDoubleFunction<Run> f, String format) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return String.format(format + " [" + format + "-" + format + "]", median(runs, f), v[0], v[v.length - 1]);
    }

    /** One dnsperf run of {@code seconds} against {@code server}, at {@code qps} (0: as fast as it can). */
    private Run dnsperf(Server server, int seconds, int qps) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", host.ns(), "taskset", "-c",
                Integer.toString(loadCpu), dnsperf, "-s", host.hostIp().getHostAddress(), "-p", Integer.toString(PORT),
                "-d", queries.toString(), "-l", Integer.toString(seconds), "-c", "1", "-T", "1", "-q", "100",
                "-t", "1"));
        if (qps > 0) {
            command.addAll(List.of("-Q", Integer.toString(qps)));
        }
        XdpChannelMetrics before = server.xdpMetrics();
        long loop0 = THREADS.getThreadCpuTime(server.loopThread().threadId());
        long jvm0 = OS.getProcessCpuTime();
        long cpu0 = cpuBusyNanos(serverCpu);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("dnsperf failed: " + String.join(" ", command) + "\n" + out);
        }
        long loop = THREADS.getThreadCpuTime(server.loopThread().threadId()) - loop0;
        long jvm = OS.getProcessCpuTime() - jvm0;
        long cpu = cpuBusyNanos(serverCpu) - cpu0;
        long completed = number(out, "Queries completed:\\s+(\\d+)");
        double lost = Double.parseDouble(group(out, "Queries lost:\\s+\\d+ \\(([0-9.]+)%\\)"));
        double rateOut = Double.parseDouble(group(out, "Queries per second:\\s+([0-9.]+)"));
        String note = "";
        if (lost > 50) {
            System.out.println("dnsperf lost most queries: " + String.join(" ", command) + "\n" + out);
        }
        XdpChannelMetrics after = server.xdpMetrics();
        if (after != null) {
            long rxFast = after.rxFastPackets() - before.rxFastPackets();
            long rxSlow = after.rxSlowPackets() - before.rxSlowPackets();
            long txFast = after.txFastPackets() - before.txFastPackets();
            long txSlow = after.txSlowPackets() - before.txSlowPackets();
            note = "rx fast " + rxFast + " slow " + rxSlow + ", tx fast " + txFast + " slow " + txSlow + ", copied "
                    + (after.rxCopied() - before.rxCopied()) + ", dropped " + (after.dropped() - before.dropped());
        }
        double q = Math.max(1, completed);
        return new Run(rateOut, lost, loop / 1e3 / q, jvm / 1e3 / q, cpu / 1e3 / q, note);
    }

    /** Busy time of {@code cpu} from /proc/stat (everything but idle and iowait), in ns. */
    private static long cpuBusyNanos(int cpu) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (line.startsWith("cpu" + cpu + " ")) {
                long[] v = Arrays.stream(line.trim().split("\\s+")).skip(1).mapToLong(Long::parseLong).toArray();
                long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; // user nice system irq softirq steal
                return busy * (1_000_000_000L / 100); // USER_HZ is 100 on Linux
            }
        }
        throw new IllegalStateException("no cpu" + cpu + " in /proc/stat");
    }

    private static long number(String out, String regex) {
        return Long.parseLong(group(out, regex));
    }

    private static String group(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("dnsperf output lacks /" + regex + "/:\n" + out);
        }
        return m.group(1);
    }

    /** The DNS server under test: one pinned event loop, one channel with the responder's pipeline. */
    private record Server(EventLoopGroup group, Channel channel, Thread loopThread) implements AutoCloseable {
        static Server start(Transport t, InetSocketAddress bind, int cpu, Map<String, List<InetAddress>> names)
                throws InterruptedException {
            Affinity.PinnedFactory factory = new Affinity.PinnedFactory(cpu, "dns-" + t.label());
            EventLoopGroup group = switch (t) {
                case NIO -> new MultiThreadIoEventLoopGroup(1, factory, NioIoHandler.newFactory());
                case EPOLL -> new MultiThreadIoEventLoopGroup(1, factory, EpollIoHandler.newFactory());
                case XDP_DRV, XDP_SKB -> new XdpEventLoopGroup(1, factory);
            };
            Bootstrap b = new Bootstrap().group(group)
                    .option(ChannelOption.SO_RCVBUF, 4 << 20)
                    .option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .handler(DnsResponder.pipeline(names));
            switch (t) {
                case NIO -> b.channel(NioDatagramChannel.class);
                case EPOLL -> b.channel(EpollDatagramChannel.class);
                case XDP_DRV -> b.channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, XdpAttachMode.DRV);
                case XDP_SKB -> b.channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, XdpAttachMode.SKB);
            }
            Channel ch;
            try {
                ch = b.bind(bind).sync().channel();
            } catch (Exception | Error e) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                throw e;
            }
            if (ch instanceof XdpDatagramChannel x && !x.isFastPathActive()) {
                ch.close().syncUninterruptibly();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                throw new IllegalStateException("XDP fast path not active on " + bind);
            }
            return new Server(group, ch, factory.last);
        }

        XdpChannelMetrics xdpMetrics() {
            return channel instanceof XdpDatagramChannel x ? x.metrics() : null;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
