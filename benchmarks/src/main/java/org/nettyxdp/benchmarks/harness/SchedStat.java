package org.nettyxdp.benchmarks.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The scheduler's view of one thread ({@code /proc/self/task/TID/schedstat}): nanoseconds on a CPU,
 * nanoseconds runnable but waiting for a CPU, and timeslices. Tells a loop thread that had nothing
 * to do from one that had work but no CPU.
 */
record SchedStat(long runNanos, long waitNanos, long slices) {
    static final SchedStat NONE = new SchedStat(0, 0, 0);

    /** The task directory of the thread named {@code name} in this process, or null. */
    static Path find(String name) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(t.resolve("comm")).trim().equals(name)) {
                        return t;
                    }
                } catch (IOException ignored) {
                    // thread gone
                }
            }
        } catch (IOException ignored) {
            // no procfs
        }
        return null;
    }

    static SchedStat read(Path task) {
        if (task == null) {
            return NONE;
        }
        try {
            String[] f = Files.readString(task.resolve("schedstat")).trim().split("\\s+");
            return new SchedStat(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]));
        } catch (IOException | RuntimeException e) {
            return NONE;
        }
    }

    SchedStat minus(SchedStat o) {
        return new SchedStat(runNanos - o.runNanos, waitNanos - o.waitNanos, slices - o.slices);
    }

    String describe(double secs) {
        return String.format("loop thread: on cpu %.0f%%, runnable but waiting for a cpu %.0f%%, %,.0f wake-ups/s",
                runNanos / secs / 1e7, waitNanos / secs / 1e7, slices / secs);
    }
}
