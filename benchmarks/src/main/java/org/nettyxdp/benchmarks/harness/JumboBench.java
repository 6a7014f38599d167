package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.bpf.BpfProgram;
import org.nettyxdp.bpf.CounterMap;
import org.nettyxdp.bpf.XdpDropProgram;
import org.nettyxdp.bpf.XdpLink;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.sys.Syscalls;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Jumbo rows: datagrams of {@code bench.payload} bytes (8000) on a veth pair with MTU 9000, which
 * AF_XDP carries as multi-buffer chains (several UMEM frames per datagram). epoll, XDP (DRV) and XDP
 * (SKB) servers in turn, {@code rx} (count and drop) and {@code echo}, against the same offered load:
 * a kernel UDP socket in the client namespace sending as fast as it can (a UMEM frame cannot hold a
 * jumbo datagram, so the single-frame AF_XDP generator of {@link Harness} does not apply). Echo
 * replies are counted by an XDP_DROP program (generic mode) on the client's veth. Prints one row per
 * transport and workload: rate, the loop thread's CPU per packet, and the fast path's multi-buffer
 * counters.
 *
 * <p>System properties: {@code bench.hosts} (one host as for {@link Harness}; {@code run-jumbo-bench.sh}
 * sets it up with MTU 9000), {@code bench.serverCpu} (0), {@code bench.loadCpu} (1),
 * {@code bench.payload} (8000), {@code bench.warmup} and {@code bench.measure} (seconds, 1 and 3).
 */
public final class JumboBench {
    private static final int PORT = 7778;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final int serverCpu = Integer.getInteger("bench.serverCpu", 0);
    private final int loadCpu = Integer.getInteger("bench.loadCpu", 1);
    private final int payload = Integer.getInteger("bench.payload", 8000);
    private final long warmupMillis = (long) (Double.parseDouble(System.getProperty("bench.warmup", "1")) * 1000);
    private final long measureMillis = (long) (Double.parseDouble(System.getProperty("bench.measure", "3")) * 1000);

    /** One measured row. */
    record Row(String transport, String workload, int payload, double pps, double sentPps, double cpuNsPerPacket,
               double loopCpu, String note) {
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        String spec = System.getProperty("bench.hosts");
        if (spec == null) {
            System.err.println("set -Dbench.hosts (benchmarks/run-jumbo-bench.sh does)");
            System.exit(2);
        }
        new JumboBench().run(BenchHost.parse(spec.split(";")[0]));
    }

    private void run(BenchHost h) throws Exception {
        System.out.printf("jumbo: %d B payload, MTU 9000, %d cpus, %s; %.1f s after %.1f s warm-up%n", payload,
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.version"), measureMillis / 1e3,
                warmupMillis / 1e3);
        List<Row> rows = new ArrayList<>();
        try (Harness.NsThread sender = new Harness.NsThread(h.ns(), loadCpu, "jumbo-sender");
             Harness.NsThread ctl = new Harness.NsThread(h.ns(), -1, "jumbo-ctl")) {
            for (Server.Transport t : new Server.Transport[] {Server.Transport.EPOLL, Server.Transport.XDP_DRV,
                    Server.Transport.XDP_SKB}) {
                if (t.unavailable() != null) {
                    System.out.println("skipping " + t.label + ": " + t.unavailable());
                    continue;
                }
                for (boolean echo : new boolean[] {false, true}) {
                    try {
                        Row r = measure(h, sender, ctl, t, echo);
                        rows.add(r);
                        print(r);
                    } catch (Exception e) {
                        System.out.println("  FAILED " + t.label + (echo ? " echo" : " rx") + ": " + e);
                    }
                }
            }
        }
        System.out.println();
        System.out.println("| transport | workload | payload | pps | offered pps | loop CPU ns/pkt | vs epoll CPU/pkt |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            Row base = rows.stream().filter(x -> x.transport.equals("epoll") && x.workload.equals(r.workload))
                    .findFirst().orElse(null);
            System.out.printf("| %s | %s | %d B | %,.0f | %,.0f | %.0f | %s |%n", r.transport, r.workload, r.payload,
                    r.pps, r.sentPps, r.cpuNsPerPacket,
                    base == null ? "" : String.format("%.2fx", r.cpuNsPerPacket / base.cpuNsPerPacket));
        }
    }

    private static void print(Row r) {
        System.out.printf("  %-8s %-5s %5d B: %,.0f pps (offered %,.0f pps), loop thread %.0f%% cpu, %.0f ns cpu/pkt%s%n",
                r.transport, r.workload, r.payload, r.pps, r.sentPps, r.loopCpu * 100, r.cpuNsPerPacket,
                r.note.isEmpty() ? "" : "\n      " + r.note);
    }

    private Row measure(BenchHost h, Harness.NsThread sender, Harness.NsThread ctl, Server.Transport t, boolean echo)
            throws Exception {
        InetSocketAddress target = new InetSocketAddress(h.hostIp(), PORT);
        try (Server s = Server.start(t, target, echo, serverCpu);
             ReplyCounter replies = echo ? ctl.call(() -> new ReplyCounter(h.peerIf())) : null) {
            AtomicBoolean stop = new AtomicBoolean();
            long[] sent = new long[1];
            Future<Object> load = sender.submit(() -> {
                try (DatagramChannel c = DatagramChannel.open()) {
                    c.connect(target);
                    ByteBuffer b = ByteBuffer.allocateDirect(payload);
                    while (!stop.get()) {
                        b.clear();
                        try {
                            c.write(b);
                            sent[0]++;
                        } catch (java.io.IOException e) {
                            // ICMP or a full queue: the load just goes on
                        }
                    }
                }
                return null;
            });
            try {
                Thread.sleep(warmupMillis);
                Thread loop = s.loopThread();
                long c0 = echo ? replies.count() : s.count();
                long cpu0 = THREADS.getThreadCpuTime(loop.threadId());
                long sent0 = sent[0];
                long t0 = System.nanoTime();
                Thread.sleep(measureMillis);
                long c1 = echo ? replies.count() : s.count();
                long cpu1 = THREADS.getThreadCpuTime(loop.threadId());
                long sent1 = sent[0];
                double secs = (System.nanoTime() - t0) / 1e9;
                long n = c1 - c0;
                long handled = n; // rx: datagrams read; echo: replies that reached the client
                return new Row(t.label, echo ? "echo" : "rx", payload, n / secs, (sent1 - sent0) / secs,
                        handled > 0 ? (double) (cpu1 - cpu0) / handled : Double.NaN, (cpu1 - cpu0) / (secs * 1e9),
                        note(s));
            } finally {
                stop.set(true);
                load.get(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String note(Server s) {
        XdpChannelMetrics m = s.xdpMetrics();
        if (m == null) {
            return "";
        }
        return "fast path rx " + m.rxFastPackets() + " (multi-buffer " + m.rxMultiBuffer() + ") tx " + m.txFastPackets()
                + " (multi-buffer " + m.txMultiBuffer() + "), slow rx " + m.rxSlowPackets() + " tx " + m.txSlowPackets()
                + ", dropped " + m.dropped() + "; " + m.modes();
    }

    /** Counts the replies at the client's veth: XDP_DROP with a counter, generic mode (any MTU without frags). */
    static final class ReplyCounter implements AutoCloseable {
        private final CounterMap counters;
        private final BpfProgram prog;
        private final XdpLink link;

        ReplyCounter(String ifName) throws Exception {
            counters = CounterMap.create("nxb_jreplies", 1);
            try {
                prog = XdpDropProgram.load(counters);
                link = XdpLink.attach(prog, Syscalls.ifNameToIndex(ifName), XdpMode.SKB);
            } catch (Exception e) {
                counters.close();
                throw e;
            }
        }

        long count() throws Exception {
            return counters.sum(XdpDropProgram.PACKETS);
        }

        @Override
        public void close() {
            link.close();
            prog.close();
            counters.close();
        }
    }
}
