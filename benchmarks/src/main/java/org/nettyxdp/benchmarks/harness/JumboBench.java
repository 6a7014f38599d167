package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.channel.XdpChannelMetrics;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Jumbo rows: datagrams of {@code bench.payload} bytes (8000) on a veth pair with MTU 9000, which
 * AF_XDP carries as multi-buffer chains (several UMEM frames per datagram). epoll, XDP (DRV) and XDP
 * (SKB) servers in turn, {@code rx} (count and drop) and {@code echo}, against the same offered load:
 * a kernel UDP socket in the client namespace sending as fast as it can (a UMEM frame cannot hold a
 * jumbo datagram, so the single-frame AF_XDP generator of {@link Harness} does not apply), measured
 * by {@link Harness}'s own drive loop (median of slices, loop-thread CPU). Echo replies are counted by
 * an XDP_DROP program (generic mode) on the client's veth. Prints one row per transport and workload:
 * rate, the loop thread's CPU per packet, and the fast path's multi-buffer counters.
 *
 * <p>System properties: {@code bench.hosts} (one host as for {@link Harness}; {@code run-jumbo-bench.sh}
 * sets it up with MTU 9000), {@code bench.serverCpu} (0), {@code bench.loadCpu} (1),
 * {@code bench.payload} (8000), {@code bench.warmup} and {@code bench.measure} (seconds, 1 and 3),
 * {@code bench.only} (one row, {@code transport:workload}).
 */
public final class JumboBench {
    private static final int PORT = 7778;

    private final int serverCpu = Integer.getInteger("bench.serverCpu", 0);
    private final int loadCpu = Integer.getInteger("bench.loadCpu", 1);
    private final int payload = Integer.getInteger("bench.payload", 8000);
    private final long warmupMillis = (long) (Double.parseDouble(System.getProperty("bench.warmup", "1")) * 1000);
    /** {@code bench.only}: one row, {@code transport:workload} (e.g. {@code xdp_drv:echo}, to profile it). */
    private final String only = System.getProperty("bench.only", "");
    private final long measureMillis = (long) (Double.parseDouble(System.getProperty("bench.measure", "3")) * 1000);
    /** The measurement loop (warm-up, sliced window, loop-thread CPU): the transport comparison's own. */
    private final Harness harness = new Harness();
    private final Harness.Placement placement = new Harness.Placement("jumbo", serverCpu, loadCpu, loadCpu, loadCpu, 0);

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
                    if (!only.isEmpty() && !only.equals(t.label + (echo ? ":echo" : ":rx"))) {
                        continue;
                    }
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
             ReplyCounter replies = echo ? ctl.call(() -> new ReplyCounter(h.peerIf(), XdpMode.SKB))
                     : null) {
            // rx: datagrams read; echo: replies that reached the client. The veths' NAPI is left as it is.
            Harness.Counter handled = echo ? replies::count : s::count;
            Harness.Drive r = harness.drive(h, sender, () -> new KernelUdpLoad(target, payload), handled,
                    s.loopThread(), placement, List.of());
            return new Row(t.label, echo ? "echo" : "rx", payload, r.pps(), r.genPps(), r.cpuNsPerPacket(),
                    r.serverCpu(), join(note(s), r.kernel()));
        }
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "\n      " + b;
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

    /**
     * The jumbo load: a connected kernel UDP socket writing {@code payload}-byte datagrams as fast as
     * it can (an ICMP error or a full queue is skipped, the load goes on).
     */
    static final class KernelUdpLoad implements Load {
        private final DatagramChannel channel;
        private final ByteBuffer datagram;
        private volatile boolean stop;
        private volatile long sent;

        KernelUdpLoad(InetSocketAddress target, int payload) throws java.io.IOException {
            channel = DatagramChannel.open();
            try {
                channel.connect(target);
            } catch (java.io.IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            datagram = ByteBuffer.allocateDirect(payload);
        }

        @Override
        public void run() {
            long n = 0;
            while (!stop) {
                datagram.clear();
                try {
                    channel.write(datagram);
                    sent = ++n;
                } catch (java.io.IOException e) {
                    // ICMP or a full queue: the load just goes on
                }
            }
        }

        @Override
        public long sent() {
            return sent;
        }

        @Override
        public void stop() {
            stop = true;
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (java.io.IOException ignored) {
                // closing a UDP socket does not fail in a way that matters here
            }
        }
    }
}
