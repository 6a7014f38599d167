package org.nettyxdp.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@code BPF_MAP_TYPE_PERCPU_ARRAY} of u64 counters: programs increment their CPU's copy without
 * atomics; {@link #sum(int)} adds the copies of all possible CPUs.
 */
public final class CounterMap extends BpfMap {
    private static final int POSSIBLE_CPUS = possibleCpus(readPossible());

    private CounterMap(int fd, String name, int counters) {
        super(fd, name, BpfCommand.MAP_TYPE_PERCPU_ARRAY, 4, 8, counters);
    }

    /** Creates {@code counters} u64 counters, all zero. */
    public static CounterMap create(String name, int counters) throws BpfException {
        int fd = createFd(BpfCommand.MAP_TYPE_PERCPU_ARRAY, name, 4, 8, counters, 0);
        return new CounterMap(fd, BpfAttr.objName(name), counters);
    }

    /** Counter {@code index} summed over all CPUs. */
    public long sum(int index) throws BpfException {
        checkIndex(index);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(JAVA_LONG, POSSIBLE_CPUS);
            if (!lookup(arena.allocateFrom(JAVA_INT, index), values)) {
                return 0;
            }
            long total = 0;
            for (int cpu = 0; cpu < POSSIBLE_CPUS; cpu++) {
                total += values.getAtIndex(JAVA_LONG, cpu);
            }
            return total;
        }
    }

    /** Sets counter {@code index} to zero on every CPU. */
    public void reset(int index) throws BpfException {
        checkIndex(index);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(JAVA_LONG, POSSIBLE_CPUS);
            update(arena.allocateFrom(JAVA_INT, index), values, BpfCommand.BPF_ANY);
        }
    }

    /** The number of possible CPUs: how many copies a per-CPU value has. */
    public static int possibleCpus() {
        return POSSIBLE_CPUS;
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= maxEntries()) {
            throw new IndexOutOfBoundsException("counter map " + name() + ": index " + index + " outside [0, "
                    + maxEntries() + ")");
        }
    }

    private static String readPossible() {
        try {
            return Files.readString(Path.of("/sys/devices/system/cpu/possible"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /sys/devices/system/cpu/possible", e);
        }
    }

    /**
     * Parses a CPU list such as {@code "0-3,5\n"} and returns the highest CPU number plus one. The
     * kernel writes one value per possible CPU (their count); highest + 1 is never smaller, so the
     * lookup buffer is always big enough and any surplus slots stay zero.
     */
    static int possibleCpus(String list) {
        int max = -1;
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            int hi = Integer.parseInt((dash < 0 ? part : part.substring(dash + 1)).trim());
            max = Math.max(max, hi);
        }
        if (max < 0) {
            throw new IllegalArgumentException("empty CPU list: '" + list + "'");
        }
        return max + 1;
    }
}
