package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.bpf.BpfProgram;
import org.nettyxdp.bpf.CounterMap;
import org.nettyxdp.bpf.XdpDropProgram;
import org.nettyxdp.bpf.XdpLink;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The transport comparison: NIO, epoll, io_uring, XDP (DRV) and XDP (SKB) servers in turn against
 * the same AF_XDP load generator, plus the XDP_DROP and kernel-socket ceilings, on veth pairs the
 * script {@code benchmarks/run-bench.sh} creates. Prints one table (ratios against epoll), target
 * PASS/MISS lines, and writes {@code bench-results.json} to the working directory.
 *
 * <p>System properties: {@code bench.hosts} ({@code queues:hostIf:peerIf:ns:hostIp:peerIp}, several
 * separated by {@code ;}), {@code bench.serverCpu} (0), {@code bench.loadCpu} (1),
 * {@code bench.warmup} and {@code bench.measure} (seconds, 1 and 3), {@code bench.quick} (one
 * payload, fewer rows).
 */
public final class Harness {
    private static final int PORT = 7777;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final int serverCpu = Integer.getInteger("bench.serverCpu", 0);
    private final int loadCpu = Integer.getInteger("bench.loadCpu", 1);
    private final long warmupNanos = (long) (Double.parseDouble(System.getProperty("bench.warmup", "1")) * 1e9);
    private final long measureNanos = (long) (Double.parseDouble(System.getProperty("bench.measure", "3")) * 1e9);
    private final List<Row> rows = new ArrayList<>();

    /** One measured row. NaN where a column does not apply. */
    record Row(int queues, String placement, String transport, String workload, int payload, double pps,
               double p50, double p99, double p999, double genPps, double bytesPerPacket, double cpuNsPerPacket,
               double serverCpu, double runqWait, String note, double loadCpu) {
        Row(int queues, String placement, String transport, String workload, int payload, double pps,
            double p50, double p99, double p999, double genPps, double bytesPerPacket, double cpuNsPerPacket,
            double serverCpu, double runqWait, String note) {
            this(queues, placement, transport, workload, payload, pps, p50, p99, p999, genPps, bytesPerPacket,
                    cpuNsPerPacket, serverCpu, runqWait, note, Double.NaN);
        }

        /** This row with the load CPU's busy share (the CPU of the generator and the veths' NAPI threads). */
        Row withLoadCpu(double share) {
            return new Row(queues, placement, transport, workload, payload, pps, p50, p99, p999, genPps,
                    bytesPerPacket, cpuNsPerPacket, serverCpu, runqWait, note, share);
        }
    }

    /** What one loaded run measured: median-of-slices rate, generator rate, per-packet costs on the loop thread. */
    record Drive(double pps, double genPps, double allocPerPacket, double cpuNsPerPacket, double serverCpu,
                 double runqWait, String kernel, double loadCpu) {
    }

    /** A thread inside the client namespace, optionally pinned. */
    static final class NsThread implements AutoCloseable {
        final ExecutorService exec;

        NsThread(String ns, int cpu, String name) throws Exception {
            exec = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
            exec.submit(() -> {
                Affinity.enterNetns(ns);
                if (cpu >= 0) {
                    Affinity.pin(cpu);
                }
                return null;
            }).get();
        }

        <T> T call(Callable<T> c) throws Exception {
            return exec.submit(c).get();
        }

        <T> Future<T> submit(Callable<T> c) {
            return exec.submit(c);
        }

        @Override
        public void close() {
            exec.shutdownNow();
        }
    }

    /** Placement of the threads for one row. */
    record Placement(String name, int serverCpu, int loadCpu, int hostNapiCpu, int peerNapiCpu, int window) {
        String describe() {
            return "server loop cpu" + serverCpu + ", generator/client cpu" + loadCpu + ", host veth NAPI cpu"
                    + hostNapiCpu + ", peer veth NAPI cpu" + peerNapiCpu + (window > 0 ? ", closed loop: at most "
                    + window + " packets in flight" : ", open loop");
        }
    }

    /** Packets in flight in the closed-loop placement: fewer than a kernel socket's default receive buffer holds (~300 small datagrams), a few read batches. */
    private static final int WINDOW = Integer.getInteger("bench.window", 256);

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        String spec = System.getProperty("bench.hosts");
        if (spec == null) {
            System.err.println("set -Dbench.hosts (benchmarks/run-bench.sh does)");
            System.exit(2);
        }
        List<BenchHost> hosts = new ArrayList<>();
        for (String s : spec.split(";")) {
            hosts.add(BenchHost.parse(s));
        }
        new Harness().run(hosts, Boolean.getBoolean("bench.quick"));
    }

    private void run(List<BenchHost> hosts, boolean quick) throws Exception {
        // A: the server's CPU runs only the server; the kernel's work for both veth ends and the generator
        // share the other CPU. B: both veth ends' NAPI next to the server. N (as a NIC queue's IRQ affinity
        // would place it): the receiving veth's NAPI (the kernel's copy into the UMEM, or its UDP stack for a
        // kernel socket) on the server's CPU, the generator and the wire's other end on the load CPU.
        Placement a = new Placement("A", serverCpu, loadCpu, loadCpu, loadCpu, 0);
        Placement b = new Placement("B", serverCpu, loadCpu, serverCpu, serverCpu, 0);
        // closed loop: an open-loop flood would have the server's CPU spend itself in NAPI dropping frames
        Placement nic = new Placement("N", serverCpu, loadCpu, serverCpu, loadCpu, WINDOW);
        int[] payloads = quick ? new int[] {64} : new int[] {64, 1200};
        BenchHost one = hosts.get(0);
        System.out.printf("machine: %d cpus, %s; measurement %.1f s after %.1f s warm-up%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.version"), measureNanos / 1e9,
                warmupNanos / 1e9);
        System.out.println("placement A: " + a.describe());
        System.out.println("placement B: " + b.describe());
        System.out.println("placement N: " + nic.describe());
        for (Server.Transport t : Server.Transport.values()) {
            if (t.unavailable() != null) {
                System.out.println("skipping " + t.label + ": " + t.unavailable());
            }
        }
        try (NsThread gen = new NsThread(one.ns(), loadCpu, "gen-" + one.ns());
             NsThread ctl = new NsThread(one.ns(), -1, "ctl-" + one.ns())) {
            for (int payload : payloads) {
                measure("xdp_drop", "rx", () -> xdpDrop(one, gen, payload, a));
                measure("kernel", "rx", () -> kernelSink(one, gen, payload, a));
                for (Server.Transport t : Server.Transport.values()) {
                    if (t.unavailable() == null) {
                        measure(t.label, "rx", () -> rx(one, gen, t, payload, a));
                        measure(t.label, "echo", () -> echo(one, gen, ctl, t, payload, a));
                        measure(t.label, "latency", () -> latency(one, gen, t, payload, a));
                    }
                }
                if (payload == 64) {
                    // the floor of our own stack, right after the channel rows (same conditions)
                    measure("raw_xsk", "rx", () -> rawXsk(one, gen, ctl, false, 64, a));
                    measure("raw_xsk", "echo", () -> rawXsk(one, gen, ctl, true, 64, a));
                }
                measure(RawReflectorRow.TRANSPORT, "echo",
                        () -> RawReflectorRow.measure(this, one, ctl, gen, PORT, payload, a));
            }
            // the server's CPU also carries the kernel's RX work for its queue: the rows measure the server
            for (Server.Transport t : new Server.Transport[] {Server.Transport.EPOLL, Server.Transport.XDP_DRV}) {
                measure(t.label, "rx", () -> rx(one, gen, t, 64, nic));
                measure(t.label, "echo", () -> echo(one, gen, ctl, t, 64, nic));
            }
            measure("raw_xsk", "rx", () -> rawXsk(one, gen, ctl, false, 64, nic));
            measure("raw_xsk", "echo", () -> rawXsk(one, gen, ctl, true, 64, nic));
            // placement sensitivity: the same XDP rows with the NAPI threads next to the server
            measure("xdp_drop", "rx", () -> xdpDrop(one, gen, 64, b));
            measure(Server.Transport.XDP_DRV.label, "rx", () -> rx(one, gen, Server.Transport.XDP_DRV, 64, b));
            measure(Server.Transport.XDP_DRV.label, "echo", () -> echo(one, gen, ctl, Server.Transport.XDP_DRV, 64, b));
        }
        for (BenchHost h : hosts.subList(1, hosts.size())) {
            try (NsThread gen = new NsThread(h.ns(), loadCpu, "gen-" + h.ns());
                 NsThread ctl = new NsThread(h.ns(), -1, "ctl-" + h.ns())) {
                measure("xdp_drop", "rx", () -> xdpDrop(h, gen, 64, a));
                for (Server.Transport t : new Server.Transport[] {Server.Transport.EPOLL, Server.Transport.XDP_DRV}) {
                    measure(t.label, "rx", () -> rx(h, gen, t, 64, a));
                    measure(t.label, "echo", () -> echo(h, gen, ctl, t, 64, a));
                }
            }
        }
        scaleRows(hosts, a);
        Report.print(rows, a, b, nic);
        ScaleReport.print(rows, shards);
        Report.writeJson(rows, Path.of("bench-results.json"));
    }

    private interface Measurement {
        Row run() throws Exception;
    }

    /** Comma-separated transport[/workload] filter, e.g. {@code xdp_drv/rx,epoll} (empty: everything). */
    private final List<String> only = List.of(System.getProperty("bench.only", "").split(",")).stream()
            .filter(x -> !x.isBlank()).toList();

    private boolean wanted(String transport, String workload) {
        return only.isEmpty() || only.contains(transport) || only.contains(transport + "/" + workload);
    }

    private void measure(String transport, String workload, Measurement m) {
        if (!wanted(transport, workload)) {
            return;
        }
        try {
            lastLoadCpu = Double.NaN;
            Row r = m.run();
            if (!Double.isNaN(lastLoadCpu) && Double.isNaN(r.loadCpu())) {
                r = r.withLoadCpu(lastLoadCpu);
            }
            rows.add(r);
            System.out.printf("  %-9s %-7s %5d B q%d %s: %s%n", r.transport(), r.workload(), r.payload(), r.queues(),
                    r.placement(), r.workload().equals("latency")
                            ? String.format("p50 %.1f us, p99 %.1f us, p99.9 %.1f us", r.p50(), r.p99(), r.p999())
                            : String.format("%,.0f pps (generator %,.0f pps)%s%s", r.pps(), r.genPps(),
                            Double.isNaN(r.serverCpu()) ? "" : String.format(", loop thread %.0f%% cpu, %.0f ns cpu/pkt",
                                    r.serverCpu() * 100, r.cpuNsPerPacket()),
                            Double.isNaN(r.bytesPerPacket()) ? "" : String.format(", %.1f B/pkt allocated",
                                    r.bytesPerPacket())));
            if (Report.loadLimited(r)) {
                System.out.printf("      load-limited: the load CPU (generator and veth NAPI threads) was %.0f%%"
                        + " busy while the loop was %.0f%%: the row measured that CPU, not the server%n",
                        100 * r.loadCpu(), 100 * r.serverCpu());
            }
            if (Report.starved(r) && !Report.generatorLimited(r)) {
                System.out.printf("      starved: the loop thread was runnable but had no CPU for %.0f%% of the window%n",
                        100 * Math.min(1, r.runqWait()));
            }
            if (Report.generatorLimited(r)) {
                System.out.printf("      generator-limited: %.0f%% of the offered load was served; the server's"
                        + " capacity is above this row%n", 100 * r.pps() / r.genPps());
            }
            if (!r.note().isEmpty()) {
                System.out.println("      " + r.note());
            }
        } catch (Exception e) {
            System.out.println("  FAILED: " + e);
            e.printStackTrace(System.out);
        }
    }

    /** Sample of a counter and the generator at one instant. */
    private record Sample(long nanos, long count, long sent, long allocated, long cpu) {
    }

    interface Counter {
        long get() throws Exception;
    }

    /** Slices of the measurement window; the reported rate is their median (robust to a noisy neighbour). */
    private static final int SLICES = 12;

    /**
     * Runs the generator and samples {@code counter} over the measurement window in slices. The rate
     * is the median slice; allocation and CPU time of {@code loopThread} per packet over the whole window.
     */
    Drive drive(BenchHost h, NsThread gen, int payload, Counter counter, Thread loopThread,
                        Placement p, List<String> napiInterfaces) throws Exception {
        return drive(h, gen, () -> new XdpTxGenerator(h, PORT, payload), counter, loopThread, p, napiInterfaces);
    }

    /** {@link #drive} with another load than the AF_XDP generator, built on {@code gen}'s thread. */
    Drive drive(BenchHost h, NsThread gen, Callable<Load> load, Counter counter, Thread loopThread,
                        Placement p, List<String> napiInterfaces) throws Exception {
        return driveAll(h, gen, load, counter, loopThread == null ? List.of() : List.of(loopThread), p,
                napiInterfaces);
    }

    /** {@link #drive} with CPU time and allocation summed over {@code loopThreads} (schedstat of the first). */
    private Drive driveAll(BenchHost h, NsThread gen, Callable<Load> load, Counter counter, List<Thread> loopThreads,
                        Placement p, List<String> napiInterfaces) throws Exception {
        Thread loopThread = loopThreads.isEmpty() ? null : loopThreads.get(0);
        java.util.Map<String, Path> watched = new java.util.LinkedHashMap<>();
        napi(h, napiInterfaces, p).forEach((comm, dir) -> watched.put(comm.replace("napi/" + h.hostIf(), "napi(host)")
                .replace("napi/" + h.peerIf(), "napi(peer)"), dir));
        Load g = gen.call(load);
        if (p.window() > 0 && g instanceof XdpTxGenerator x) {
            x.limitInFlight(() -> {
                try {
                    return counter.get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, p.window());
        }
        Future<Object> running = gen.submit(() -> {
            g.run();
            return null;
        });
        try {
            Thread.sleep(warmupNanos / 1_000_000);
            Path task = loopThread == null ? null : SchedStat.find(loopThread.getName());
            Path genTask = SchedStat.find("gen-" + h.ns());
            if (genTask != null) {
                watched.put("generator", genTask);
            }
            CpuAccount account = new CpuAccount(watched);
            CpuAccount.Snapshot c0 = account.take();
            long[] g0 = g instanceof XdpTxGenerator x ? x.loopCounts() : new long[4];
            SchedStat q0 = SchedStat.read(task);
            VethCounters v0 = VethCounters.read(h);
            Sample first = sample(counter, g, loopThreads);
            Sample prev = first;
            double[] rates = new double[SLICES];
            for (int i = 0; i < SLICES; i++) {
                Thread.sleep(measureNanos / SLICES / 1_000_000);
                Sample next = sample(counter, g, loopThreads);
                rates[i] = (next.count - prev.count) / ((next.nanos - prev.nanos) / 1e9);
                prev = next;
            }
            VethCounters v1 = VethCounters.read(h);
            SchedStat q1 = SchedStat.read(task);
            CpuAccount.Snapshot c1 = account.take();
            long[] g1 = g instanceof XdpTxGenerator x ? x.loopCounts() : new long[4];
            lastLoadCpu = CpuAccount.busy(c0, c1, p.loadCpu());
            long passes = g1[0] - g0[0];
            String genNote = passes <= 0 ? "" : String.format("; generator: %,.0f kicks/s, %.0f%% of its passes found"
                    + " every frame in flight%s", (g1[2] - g0[2]) / ((prev.nanos - first.nanos) / 1e9),
                    100.0 * (g1[1] - g0[1]) / passes, p.window() <= 0 ? "" : String.format(", %.0f%% held by the"
                            + " window (%d in flight)", 100.0 * (g1[3] - g0[3]) / passes, p.window()));
            java.util.Arrays.sort(rates);
            double median = (rates[SLICES / 2 - 1] + rates[SLICES / 2]) / 2;
            double secs = (prev.nanos - first.nanos) / 1e9;
            long n = prev.count - first.count;
            boolean perPacket = loopThread != null && n > 0;
            return new Drive(median, (prev.sent - first.sent) / secs,
                    perPacket ? (double) (prev.allocated - first.allocated) / n : Double.NaN,
                    perPacket ? (double) (prev.cpu - first.cpu) / n : Double.NaN,
                    loopThread == null ? Double.NaN : (prev.cpu - first.cpu) / (secs * 1e9),
                    task == null ? Double.NaN : Math.min(1, q1.minus(q0).waitNanos() / (secs * 1e9)),
                    v1.minus(v0).describe(secs) + (task == null ? "" : "; " + q1.minus(q0).describe(secs))
                            + "\n      " + CpuAccount.describe(c0, c1) + genNote, lastLoadCpu);
        } finally {
            g.stop();
            running.get(5, TimeUnit.SECONDS);
            gen.call(() -> {
                g.close();
                return null;
            });
        }
    }

    /** Load CPU's busy share in the last {@link #drive} (NaN before one). */
    private double lastLoadCpu = Double.NaN;

    /** Threaded NAPI on the interfaces (host or peer end), pinned per the placement; returns their threads (none: left as they are). */
    private java.util.Map<String, Path> napi(BenchHost h, List<String> interfaces, Placement p) {
        if (interfaces.isEmpty()) {
            return java.util.Map.of();
        }
        for (String itf : interfaces) {
            boolean ok = Affinity.threadedNapi(itf.equals(h.peerIf()) ? h.ns() : null, itf);
            if (!ok && warnedNapi.add(itf)) {
                System.out.println("      note: threaded NAPI refused on " + itf + " (no NAPI: softirq)");
            }
        }
        java.util.Map<String, Path> pinned = new java.util.LinkedHashMap<>();
        for (String itf : interfaces) {
            pinned.putAll(Affinity.pinNapiThreads(List.of(itf), itf.equals(h.peerIf()) ? p.peerNapiCpu()
                    : p.hostNapiCpu()));
        }
        if (pinned.isEmpty()) {
            System.out.println("      note: no NAPI thread found for " + interfaces);
        }
        return pinned;
    }

    private final java.util.Set<String> warnedNapi = new java.util.HashSet<>();

    private static Sample sample(Counter c, Load g, List<Thread> threads) throws Exception {
        long alloc = 0;
        long cpu = 0;
        for (Thread t : threads) {
            alloc += THREADS.getThreadAllocatedBytes(t.threadId());
            cpu += THREADS.getThreadCpuTime(t.threadId());
        }
        long count = c.get();
        long sent = g.sent();
        return new Sample(System.nanoTime(), count, sent, alloc, cpu);
    }

    private Row rx(BenchHost h, NsThread gen, Server.Transport t, int payload, Placement p) throws Exception {
        try (Server s = Server.start(t, new InetSocketAddress(h.hostIp(), PORT), false, p.serverCpu())) {
            Drive r = drive(h, gen, payload, s::count, s.loopThread(), p, List.of(h.hostIf()));
            return new Row(h.queues(), p.name(), t.label, "rx", payload, r.pps(), Double.NaN, Double.NaN, Double.NaN,
                    r.genPps(), r.allocPerPacket(), r.cpuNsPerPacket(), r.serverCpu(), r.runqWait(), join(xdpNote(s), r.kernel()));
        }
    }

    private Row echo(BenchHost h, NsThread gen, NsThread ctl, Server.Transport t, int payload, Placement p)
            throws Exception {
        try (Server s = Server.start(t, new InetSocketAddress(h.hostIp(), PORT), true, p.serverCpu());
             ReplyCounter replies = ctl.call(() -> new ReplyCounter(h.peerIf()))) {
            Drive r = drive(h, gen, payload, replies::count, s.loopThread(), p, List.of(h.hostIf(), h.peerIf()));
            return new Row(h.queues(), p.name(), t.label, "echo", payload, r.pps(), Double.NaN, Double.NaN,
                    Double.NaN, r.genPps(), r.allocPerPacket(), r.cpuNsPerPacket(), r.serverCpu(), r.runqWait(), join(xdpNote(s), r.kernel()));
        }
    }

    private Row latency(BenchHost h, NsThread gen, Server.Transport t, int payload, Placement p) throws Exception {
        try (Server s = Server.start(t, new InetSocketAddress(h.hostIp(), PORT), true, p.serverCpu())) {
            napi(h, List.of(h.hostIf()), p);
            PingPongClient.Result r = gen.call(() -> PingPongClient.run(new InetSocketAddress(h.hostIp(), PORT),
                    payload, warmupNanos / 2, measureNanos));
            String note = xdpNote(s);
            if (r.lost() > 0) {
                note = (note + " " + r.lost() + " round trips lost (200 ms timeout)").trim();
            }
            return new Row(h.queues(), p.name(), t.label, "latency", payload, r.samples() / (measureNanos / 1e9),
                    r.p50(), r.p99(), r.p999(), Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, note);
        }
    }

    private Row xdpDrop(BenchHost h, NsThread gen, int payload, Placement p) throws Exception {
        try (CounterMap counters = CounterMap.create("nxb_drop", 1);
             BpfProgram prog = XdpDropProgram.load(counters);
             XdpLink _ = XdpLink.attach(prog, Syscalls.ifNameToIndex(h.hostIf()), XdpMode.DRV)) {
            Drive r = drive(h, gen, payload, () -> counters.sum(XdpDropProgram.PACKETS), null, p,
                    List.of(h.hostIf()));
            return new Row(h.queues(), p.name(), "xdp_drop", "rx", payload, r.pps(), Double.NaN, Double.NaN,
                    Double.NaN, r.genPps(), Double.NaN, Double.NaN, Double.NaN, Double.NaN, r.kernel());
        }
    }

    private Row kernelSink(BenchHost h, NsThread gen, int payload, Placement p) throws Exception {
        try (DatagramChannel ch = DatagramChannel.open(java.net.StandardProtocolFamily.INET)) {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(h.hostIp(), PORT));
            Drive r = drive(h, gen, payload, () -> udpDrops(PORT), null, p, List.of(h.hostIf()));
            return new Row(h.queues(), p.name(), "kernel", "rx", payload, r.pps(), Double.NaN, Double.NaN,
                    Double.NaN, r.genPps(), Double.NaN, Double.NaN, Double.NaN, Double.NaN, "UDP socket nobody reads: datagrams the stack takes to the"
                    + " socket (drops of the full queue, /proc/net/udp); " + r.kernel());
        }
    }

    /** The drops column of the UDP socket bound to {@code port} in this process's namespace. */
    private static long udpDrops(int port) throws IOException {
        String hex = String.format(":%04X", port);
        for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 12 && f[1].endsWith(hex)) {
                return Long.parseLong(f[f.length - 1]);
            }
        }
        throw new IllegalStateException("no UDP socket on port " + port + " in /proc/net/udp");
    }

    /** One scale-out row: loops, aggregate rate, CPU per packet over all loops, each loop's share. */
    record Shard(int queues, int loops, String workload, double pps, double cpuNsPerPacket, double[] shares) {
    }

    private final List<Shard> shards = new ArrayList<>();

    /**
     * The rows of issue 15: the raw-socket floor (echo and RX sink without Netty), SO_REUSEPORT scale-out
     * (1 queue / 1 loop, 2 queues / 2 loops on CPUs 0 and 1), and latency with busy polling.
     */
    private void scaleRows(List<BenchHost> hosts, Placement a) throws Exception {
        BenchHost one = hosts.get(0);
        try (NsThread gen = new NsThread(one.ns(), loadCpu, "gen-" + one.ns());
             NsThread ctl = new NsThread(one.ns(), -1, "ctl-" + one.ns())) {
            measure("xdp_drv_bp", "latency", () -> busyPollLatency(one, gen, 64, a));
            measure("xdp_shard", "rx", () -> shard(one, gen, ctl, 1, false, a));
            measure("xdp_shard", "echo", () -> shard(one, gen, ctl, 1, true, a));
        }
        for (BenchHost h : hosts.subList(1, hosts.size())) {
            if (h.queues() < 2) {
                continue;
            }
            try (NsThread gen = new NsThread(h.ns(), loadCpu, "gen-" + h.ns());
                 NsThread ctl = new NsThread(h.ns(), -1, "ctl-" + h.ns())) {
                measure("xdp_shard", "rx", () -> shard(h, gen, ctl, h.queues(), false, a));
                measure("xdp_shard", "echo", () -> shard(h, gen, ctl, h.queues(), true, a));
            }
        }
    }

    private Row rawXsk(BenchHost h, NsThread gen, NsThread ctl, boolean echo, int payload, Placement p)
            throws Exception {
        try (RawXskServer s = new RawXskServer(h.hostIf(), h.hostIp(), PORT, echo,
                p.serverCpu());
             ReplyCounter replies = echo ? ctl.call(() -> new ReplyCounter(h.peerIf())) : null) {
            Counter c = echo ? replies::count : s::count;
            List<String> napi = echo ? List.of(h.hostIf(), h.peerIf()) : List.of(h.hostIf());
            long k0 = s.kickNanos();
            long n0 = s.count();
            Drive r = drive(h, gen, payload, c, s.loopThread(), p, napi);
            long n = s.count() - n0;
            String kick = echo && n > 0 && RawXskServer.KICK_TIMING ? String.format("loop cpu in the TX kick"
                    + " (sendto: the kernel's copy-mode TX): %.0f ns/pkt; ", (double) (s.kickNanos() - k0) / n) : "";
            return new Row(h.queues(), p.name(), "raw_xsk", echo ? "echo" : "rx", payload, r.pps(), Double.NaN,
                    Double.NaN, Double.NaN, r.genPps(), r.allocPerPacket(), r.cpuNsPerPacket(), r.serverCpu(),
                    r.runqWait(), "AF_XDP socket and steering program only, no Netty; " + kick + r.kernel());
        }
    }

    private Row busyPollLatency(BenchHost h, NsThread gen, int payload, Placement p) throws Exception {
        String old = System.getProperty("bench.xdpBusyPoll");
        System.setProperty("bench.xdpBusyPoll", "true");
        try {
            Row r = latency(h, gen, Server.Transport.XDP_DRV, payload, p);
            return new Row(r.queues(), r.placement(), "xdp_drv_bp", r.workload(), r.payload(), r.pps(), r.p50(),
                    r.p99(), r.p999(), r.genPps(), r.bytesPerPacket(), r.cpuNsPerPacket(), r.serverCpu(),
                    r.runqWait(), ("XdpIoHandlerConfig.setBusyPoll(true) " + r.note()).trim());
        } finally {
            if (old == null) {
                System.clearProperty("bench.xdpBusyPoll");
            } else {
                System.setProperty("bench.xdpBusyPoll", old);
            }
        }
    }

    /** {@code loops} SO_REUSEPORT channels on loops pinned to CPUs 0..loops-1 (the server CPU first). */
    private Row shard(BenchHost h, NsThread gen, NsThread ctl, int loops, boolean echo, Placement p)
            throws Exception {
        int[] cpus = new int[loops];
        for (int i = 0; i < loops; i++) {
            cpus[i] = i == 0 ? p.serverCpu() : (p.serverCpu() + i) % Runtime.getRuntime().availableProcessors();
        }
        try (ShardedServer s = new ShardedServer(new InetSocketAddress(h.hostIp(), PORT), loops, echo, cpus);
             ReplyCounter replies = echo ? ctl.call(() -> new ReplyCounter(h.peerIf())) : null) {
            long[] before = s.counts();
            Counter c = echo ? replies::count : s::count;
            List<String> napi = echo ? List.of(h.hostIf(), h.peerIf()) : List.of(h.hostIf());
            Drive r = driveAll(h, gen, () -> new XdpTxGenerator(h, PORT, 64), c, s.loopThreads(), p, napi);
            long[] after = s.counts();
            double total = 0;
            double[] shares = new double[loops];
            for (int i = 0; i < loops; i++) {
                shares[i] = after[i] - before[i];
                total += shares[i];
            }
            StringBuilder sb = new StringBuilder("loops on cpus " + java.util.Arrays.toString(cpus) + ", queues "
                    + s.queues() + ", each loop's share of the packets (whole run):");
            for (int i = 0; i < loops; i++) {
                shares[i] = total == 0 ? 0 : shares[i] / total;
                sb.append(String.format(" %.0f%%", shares[i] * 100));
            }
            String workload = echo ? "echo" : "rx";
            shards.add(new Shard(h.queues(), loops, workload, r.pps(), r.cpuNsPerPacket(), shares));
            return new Row(h.queues(), p.name(), "xdp_shard", workload, 64, r.pps(), Double.NaN, Double.NaN,
                    Double.NaN, r.genPps(), r.allocPerPacket(), r.cpuNsPerPacket(), r.serverCpu(), r.runqWait(),
                    sb + "; loop cpu is the sum over the loops; " + r.kernel());
        }
    }

    private static String xdpNote(Server s) {
        XdpChannelMetrics m = s.xdpMetrics();
        if (m == null) {
            return "";
        }
        return "whole run: fast path rx " + m.rxFastPackets() + " tx " + m.txFastPackets() + ", slow rx "
                + m.rxSlowPackets() + ", dropped " + m.dropped() + ", kernel " + m.kernel();
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "\n      " + b;
    }
}
