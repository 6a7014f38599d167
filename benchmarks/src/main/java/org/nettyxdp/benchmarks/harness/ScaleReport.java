package org.nettyxdp.benchmarks.harness;

import java.util.List;
import java.util.Optional;

/** The target lines of issue 15's rows: scale-out, the raw-socket floor, busy-poll latency. */
final class ScaleReport {
    /** Per-packet CPU at n loops may exceed one loop's by at most this factor. */
    private static final double CPU_FACTOR = 1.15;
    /** Each loop's least share of the packets. */
    private static final double MIN_SHARE = 0.35;

    private ScaleReport() {
    }

    static void print(List<Harness.Row> rows, List<Harness.Shard> shards) {
        for (String workload : new String[] {"rx", "echo"}) {
            Optional<Harness.Shard> one = shards.stream().filter(s -> s.loops() == 1 && s.workload().equals(workload))
                    .findFirst();
            for (Harness.Shard many : shards) {
                if (many.loops() < 2 || !many.workload().equals(workload) || one.isEmpty()) {
                    continue;
                }
                Harness.Shard o = one.get();
                double cpuRatio = many.cpuNsPerPacket() / o.cpuNsPerPacket();
                double least = 1;
                StringBuilder shares = new StringBuilder();
                for (double s : many.shares()) {
                    least = Math.min(least, s);
                    shares.append(String.format(" %.0f%%", s * 100));
                }
                boolean ok = cpuRatio <= CPU_FACTOR && least >= MIN_SHARE;
                System.out.printf("%s SO_REUSEPORT %s, %d queues / %d loops vs 1 / 1: %,.0f vs %,.0f pps (%.2fx),"
                                + " cpu/pkt %.0f vs %.0f ns = %.2fx (need <= %.2fx), loop shares%s (need each >= %.0f%%)%n",
                        ok ? "PASS" : "MISS", workload, many.queues(), many.loops(), many.pps(), o.pps(),
                        many.pps() / o.pps(), many.cpuNsPerPacket(), o.cpuNsPerPacket(), cpuRatio, CPU_FACTOR, shares,
                        MIN_SHARE * 100);
            }
        }
        for (String placement : new String[] {"A", "N"}) {
            String where = " (placement " + placement + ")";
            for (String workload : new String[] {"rx", "echo"}) {
                Optional<Harness.Row> raw = Report.find(rows, placement, "raw_xsk", workload, 64);
                Optional<Harness.Row> netty = Report.find(rows, placement, "xdp_drv", workload, 64);
                if (raw.isPresent() && netty.isPresent()) {
                    Harness.Row r = raw.get();
                    Harness.Row n = netty.get();
                    System.out.printf("%s Netty %s >= 0.9x the raw-socket floor%s: %,.0f vs %,.0f pps = %.2fx,"
                                    + " offered %,.0f vs %,.0f pps; loop cpu/pkt %.0f vs %.0f ns (the layers above the"
                                    + " rings: %.0f ns)%s%n",
                            workload.equals("echo") ? (n.pps() >= 0.9 * r.pps() ? "PASS" : "MISS") : "INFO", workload,
                            where, n.pps(), r.pps(), n.pps() / r.pps(), n.genPps(), r.genPps(), n.cpuNsPerPacket(),
                            r.cpuNsPerPacket(), n.cpuNsPerPacket() - r.cpuNsPerPacket(), limits(r, n));
                }
            }
            Optional<Harness.Row> echo = Report.find(rows, placement, "xdp_drv", "echo", 64);
            Optional<Harness.Row> epollEcho = Report.find(rows, placement, "epoll", "echo", 64);
            if (echo.isPresent() && epollEcho.isPresent()) {
                Harness.Row x = echo.get();
                Harness.Row e = epollEcho.get();
                double ratio = x.cpuNsPerPacket() / e.cpuNsPerPacket();
                System.out.printf("%s XDP echo loop cpu/pkt <= 0.25x epoll's%s: %.0f vs %.0f ns = %.2fx%n",
                        ratio <= 0.25 ? "PASS" : "MISS", where, x.cpuNsPerPacket(), e.cpuNsPerPacket(), ratio);
                if (placement.equals("N")) {
                    double pps = x.pps() / e.pps();
                    System.out.printf("%s XDP echo >= 3x epoll echo%s: %,.0f vs %,.0f pps = %.2fx (need 3.00x),"
                                    + " offered %,.0f vs %,.0f pps%s%n", pps >= 3 ? "PASS" : "MISS", where, x.pps(),
                            e.pps(), pps, x.genPps(), e.genPps(), limits(x, e));
                }
            }
        }
        Optional<Harness.Row> bp = Report.find(rows, "xdp_drv_bp", "latency", 64);
        Optional<Harness.Row> xdp = Report.find(rows, "xdp_drv", "latency", 64);
        Optional<Harness.Row> epoll = Report.find(rows, "epoll", "latency", 64);
        if (bp.isPresent() && epoll.isPresent()) {
            System.out.printf("%s XDP p99 with busy polling below epoll's: %.1f vs %.1f us%n",
                    bp.get().p99() < epoll.get().p99() ? "PASS" : "MISS", bp.get().p99(), epoll.get().p99());
        }
        if (xdp.isPresent() && epoll.isPresent()) {
            System.out.printf("%s XDP p50 (default, no busy polling) at most epoll's: %.1f vs %.1f us%n",
                    xdp.get().p50() <= epoll.get().p50() ? "PASS" : "MISS", xdp.get().p50(), epoll.get().p50());
        }
    }

    /** " (generator-limited: ...)" or " (load-limited: ...)" when either row was not limited by its server. */
    private static String limits(Harness.Row a, Harness.Row b) {
        StringBuilder sb = new StringBuilder();
        for (Harness.Row r : new Harness.Row[] {a, b}) {
            if (Report.generatorLimited(r)) {
                sb.append(sb.isEmpty() ? " (" : ", ").append(r.transport()).append(" generator-limited");
            } else if (Report.loadLimited(r)) {
                sb.append(sb.isEmpty() ? " (" : ", ").append(r.transport()).append(" load-limited");
            } else if (Report.starved(r)) {
                sb.append(sb.isEmpty() ? " (" : ", ").append(r.transport()).append(" loop starved");
            }
        }
        return sb.isEmpty() ? "" : sb.append(')').toString();
    }
}
