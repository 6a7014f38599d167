package org.nettyxdp.benchmarks.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The table, the target lines and {@code bench-results.json}. */
final class Report {
    private Report() {
    }

    static void print(List<Harness.Row> rows, Harness.Placement a, Harness.Placement b, Harness.Placement n) {
        System.out.println();
        System.out.println("placement A: " + a.describe());
        System.out.println("placement B: " + b.describe());
        System.out.println("placement N: " + n.describe());
        System.out.println("vs epoll: pps / epoll's pps for rx and echo; epoll's p99 / this p99 for latency"
                + " (> 1 is better); same queues, payload and placement");
        System.out.println("pps: median of " + 12 + " slices; loop cpu: the server's event loop thread's CPU share;"
                + " cpu wait: share of the window it was runnable but had no CPU (other tenants);"
                + " ns/pkt: its CPU time per packet; B/pkt: bytes it allocated per packet");
        System.out.println("gen pps: the load offered; G after pps: generator-limited (at least 90% of the offered"
                + " load served), so the server's capacity is above the row, which measured the generator");
        System.out.println("load cpu: busy share of the CPU carrying the generator (and, in placement A, the veths'"
                + " NAPI threads); L after pps: load-limited (that CPU >= 95% busy, the loop < 90% busy and"
                + " < 25% waiting, less than 90% served), so the row measured that CPU, not the server; W after pps:"
                + " the loop waited for a CPU >= 25% of the window (other tenants, or NAPI next to it): the row measured"
                + " the scheduler");
        String fmt = "%-2s %-3s %-9s %-8s %6s %12s %8s %8s %8s %8s %12s %8s %8s %8s %7s %7s%n";
        System.out.printf(fmt, "q", "pl", "transport", "workload", "bytes", "pps", "vs epoll", "p50 us", "p99 us",
                "p99.9 us", "gen pps", "load cpu", "loop cpu", "cpu wait", "ns/pkt", "B/pkt");
        for (Harness.Row r : rows) {
            System.out.printf(fmt, r.queues(), r.placement(), r.transport(), r.workload(), r.payload(),
                    r.workload().equals("latency") ? "-"
                            : String.format("%,.0f", r.pps()) + (generatorLimited(r) ? " G" : loadLimited(r) ? " L"
                            : starved(r) ? " W" : ""),
                    ratio(rows, r), num(r.p50()), num(r.p99()), num(r.p999()),
                    Double.isNaN(r.genPps()) ? "-" : String.format("%,.0f", r.genPps()),
                    Double.isNaN(r.loadCpu()) ? "-" : String.format("%.0f%%", r.loadCpu() * 100),
                    Double.isNaN(r.serverCpu()) ? "-" : String.format("%.0f%%", r.serverCpu() * 100),
                    Double.isNaN(r.runqWait()) ? "-" : String.format("%.0f%%", r.runqWait() * 100),
                    Double.isNaN(r.cpuNsPerPacket()) ? "-" : String.format("%.0f", r.cpuNsPerPacket()),
                    num(r.bytesPerPacket()));
        }
        System.out.println();
        target("XDP echo >= 3x epoll echo at 64 B",
                find(rows, "xdp_drv", "echo", 64), find(rows, "epoll", "echo", 64), 3.0, false);
        target("XDP RX sink >= 60% of the XDP_DROP ceiling at 64 B",
                find(rows, "xdp_drv", "rx", 64), find(rows, "xdp_drop", "rx", 64), 0.6, false);
        target("XDP p99 latency below epoll's at 64 B",
                find(rows, "xdp_drv", "latency", 64), find(rows, "epoll", "latency", 64), 1.0, true);
        find(rows, "xdp_drv", "rx", 64).ifPresent(r -> System.out.printf(
                "allocation on the XDP RX path (event loop thread, RX sink that releases, 64 B): %.2f bytes/packet"
                        + " (target 0)%n", r.bytesPerPacket()));
    }

    private static void target(String what, Optional<Harness.Row> mine, Optional<Harness.Row> ref, double factor,
                               boolean latency) {
        if (mine.isEmpty() || ref.isEmpty()) {
            System.out.println("MISS " + what + ": not measured");
            return;
        }
        Harness.Row m = mine.get();
        Harness.Row r = ref.get();
        if (latency) {
            boolean ok = m.p99() < r.p99();
            System.out.printf("%s %s: xdp_drv p99 %.1f us, %s p99 %.1f us%n", ok ? "PASS" : "MISS", what, m.p99(),
                    r.transport(), r.p99());
        } else {
            double ratio = m.pps() / r.pps();
            System.out.printf("%s %s: %,.0f vs %s %,.0f pps = %.2fx (need %.2fx)%n", ratio >= factor ? "PASS" : "MISS",
                    what, m.pps(), r.transport(), r.pps(), ratio, factor);
        }
    }

    static Optional<Harness.Row> find(List<Harness.Row> rows, String transport, String workload, int payload) {
        return find(rows, "A", transport, workload, payload);
    }

    static Optional<Harness.Row> find(List<Harness.Row> rows, String placement, String transport, String workload,
                                      int payload) {
        return rows.stream().filter(r -> r.queues() == 1 && r.placement().equals(placement)
                && r.transport().equals(transport) && r.workload().equals(workload) && r.payload() == payload)
                .findFirst();
    }

    private static String ratio(List<Harness.Row> rows, Harness.Row r) {
        Optional<Harness.Row> e = rows.stream().filter(x -> x.transport().equals("epoll")
                && x.workload().equals(r.workload()) && x.payload() == r.payload() && x.queues() == r.queues()
                && x.placement().equals(r.placement())).findFirst();
        if (e.isEmpty()) {
            e = rows.stream().filter(x -> x.transport().equals("epoll") && x.workload().equals(r.workload())
                    && x.payload() == r.payload() && x.queues() == r.queues() && x.placement().equals("A"))
                    .findFirst();
        }
        if (r.workload().equals("rx") && e.isEmpty()) {
            e = rows.stream().filter(x -> x.transport().equals("epoll") && x.workload().equals("rx")
                    && x.payload() == r.payload() && x.queues() == r.queues()).findFirst();
        }
        if (e.isEmpty()) {
            return "-";
        }
        double v = r.workload().equals("latency") ? e.get().p99() / r.p99() : r.pps() / e.get().pps();
        return String.format("%.2fx", v);
    }

    /** True for a pps row that served at least 90% of what the generator offered. */
    static boolean generatorLimited(Harness.Row r) {
        // placement N is a closed loop: the offer follows what is served, so the mark does not apply there
        return !r.workload().equals("latency") && !r.placement().equals("N") && r.genPps() > 0
                && r.pps() >= 0.9 * r.genPps();
    }

    /**
     * True for a pps row that is not generator-limited but whose load CPU was saturated while the
     * server's loop had time to spare: the offered load was what that CPU could make and carry.
     */
    static boolean loadLimited(Harness.Row r) {
        return !r.workload().equals("latency") && !generatorLimited(r) && r.loadCpu() >= 0.95
                && !(r.serverCpu() >= 0.9) && !(r.runqWait() >= 0.25);
    }

    /** True for a pps row whose loop thread was runnable without a CPU for at least 25% of the window. */
    static boolean starved(Harness.Row r) {
        return !r.workload().equals("latency") && r.runqWait() >= 0.25;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.1f", v);
    }

    static void writeJson(List<Harness.Row> rows, Path file) throws IOException {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Harness.Row r = rows.get(i);
            sb.append("  {\"transport\": \"").append(r.transport()).append("\", \"workload\": \"").append(r.workload())
                    .append("\", \"payload\": ").append(r.payload())
                    .append(", \"pps\": ").append(json(r.pps()))
                    .append(", \"p50_us\": ").append(json(r.p50()))
                    .append(", \"p99_us\": ").append(json(r.p99()))
                    .append(", \"p999_us\": ").append(json(r.p999()))
                    .append(", \"queues\": ").append(r.queues())
                    .append(", \"placement\": \"").append(r.placement()).append('"')
                    .append(", \"generator_pps\": ").append(json(r.genPps()))
                    .append(", \"alloc_bytes_per_packet\": ").append(json(r.bytesPerPacket()))
                    .append(", \"loop_cpu_share\": ").append(json(r.serverCpu()))
                    .append(", \"loop_cpu_wait_share\": ").append(json(r.runqWait()))
                    .append(", \"loop_cpu_ns_per_packet\": ").append(json(r.cpuNsPerPacket()))
                    .append(", \"load_cpu_share\": ").append(json(r.loadCpu()))
                    .append('}').append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        sb.append("]\n");
        Files.writeString(file, sb);
        System.out.println("wrote " + file.toAbsolutePath());
    }

    private static String json(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format("%.2f", v);
    }
}
