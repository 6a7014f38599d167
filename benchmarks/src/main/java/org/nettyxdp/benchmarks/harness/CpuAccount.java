package org.nettyxdp.benchmarks.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the CPUs went during a measurement window: each CPU's busy share ({@code /proc/stat}: user,
 * system, irq and softirq; steal separately) and, for the threads that matter on the load side (the
 * generator, each veth end's NAPI thread), their own run and wait shares (schedstat). Says which CPU
 * was the limit of a row: the server's, or the one carrying the generator and the kernel's veth work.
 */
final class CpuAccount {
    /** Busy and steal jiffies per CPU and schedstat per named thread at one instant. */
    record Snapshot(long nanos, long[] busy, long[] total, long[] steal, Map<String, SchedStat> threads) {
    }

    private final Map<String, Path> threads;

    /** {@code threads}: label to task directory ({@code /proc/PID} or {@code /proc/self/task/TID}). */
    CpuAccount(Map<String, Path> threads) {
        this.threads = threads;
    }

    Snapshot take() {
        List<long[]> cpus = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu") && Character.isDigit(line.charAt(3))) {
                    String[] f = line.trim().split("\\s+");
                    long[] v = new long[f.length - 1];
                    for (int i = 1; i < f.length; i++) {
                        v[i - 1] = Long.parseLong(f[i]);
                    }
                    cpus.add(v);
                }
            }
        } catch (IOException | RuntimeException e) {
            cpus.clear();
        }
        long[] busy = new long[cpus.size()];
        long[] total = new long[cpus.size()];
        long[] steal = new long[cpus.size()];
        for (int c = 0; c < cpus.size(); c++) {
            long[] v = cpus.get(c);
            // user nice system idle iowait irq softirq steal guest guest_nice
            busy[c] = v[0] + v[1] + v[2] + v[5] + v[6];
            steal[c] = v.length > 7 ? v[7] : 0;
            total[c] = busy[c] + v[3] + v[4] + steal[c];
        }
        Map<String, SchedStat> t = new LinkedHashMap<>();
        threads.forEach((name, dir) -> t.put(name, SchedStat.read(dir)));
        return new Snapshot(System.nanoTime(), busy, total, steal, t);
    }

    /**
     * "cpu0 busy 52% (steal 0%), cpu1 busy 100% ...; on cpu / waiting: generator 41%/30%, napi/h 35%/40%".
     */
    static String describe(Snapshot a, Snapshot b) {
        StringBuilder sb = new StringBuilder("cpus busy:");
        for (int c = 0; c < Math.min(a.busy.length, b.busy.length); c++) {
            double t = b.total[c] - a.total[c];
            if (t <= 0) {
                continue;
            }
            sb.append(String.format(" cpu%d %.0f%%", c, 100 * (b.busy[c] - a.busy[c]) / t));
            long st = b.steal[c] - a.steal[c];
            if (st > 0) {
                sb.append(String.format(" (steal %.0f%%)", 100 * st / t));
            }
        }
        double secs = (b.nanos - a.nanos) / 1e9;
        if (!b.threads.isEmpty()) {
            sb.append("; on cpu/waiting for one:");
            b.threads.forEach((name, s1) -> {
                SchedStat d = s1.minus(a.threads.getOrDefault(name, SchedStat.NONE));
                sb.append(String.format(" %s %.0f%%/%.0f%%", name, d.runNanos() / secs / 1e7,
                        d.waitNanos() / secs / 1e7));
            });
        }
        return sb.toString();
    }

    /** Busy share of {@code cpu} between the snapshots, NaN when unknown. */
    static double busy(Snapshot a, Snapshot b, int cpu) {
        if (cpu >= a.busy.length || cpu >= b.busy.length) {
            return Double.NaN;
        }
        double t = b.total[cpu] - a.total[cpu];
        return t <= 0 ? Double.NaN : (b.busy[cpu] - a.busy[cpu]) / t;
    }
}
