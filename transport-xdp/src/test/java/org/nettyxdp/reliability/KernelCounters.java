package org.nettyxdp.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The kernel's SNMP counters of the current network namespace ({@code /proc/net/snmp},
 * {@code /proc/net/netstat}, {@code /proc/net/snmp6}), as {@code nstat} reads them: names like
 * {@code "Udp.InCsumErrors"} or {@code "Udp6InCsumErrors"}.
 */
final class KernelCounters {
    private KernelCounters() {
    }

    static Map<String, Long> read() {
        Map<String, Long> all = new TreeMap<>();
        readPairs(Path.of("/proc/net/snmp"), all);
        readPairs(Path.of("/proc/net/netstat"), all);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/snmp6"))) {
                String[] kv = line.trim().split("\\s+");
                if (kv.length == 2) {
                    all.put(kv[0], Long.parseLong(kv[1]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no IPv6: nothing to add
        }
        return all;
    }

    private static void readPairs(Path file, Map<String, Long> into) {
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i + 1 < lines.size(); i += 2) {
                String[] names = lines.get(i).trim().split("\\s+");
                String[] values = lines.get(i + 1).trim().split("\\s+");
                String prefix = names[0].replace(":", "");
                for (int k = 1; k < names.length && k < values.length; k++) {
                    into.put(prefix + "." + names[k], Long.parseLong(values[k]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // counters are diagnostics only
        }
    }

    /** Counters that changed from {@code before} to {@code after}, restricted to names containing one of {@code filter}. */
    static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after, String... filter) {
        Map<String, Long> d = new TreeMap<>();
        for (Map.Entry<String, Long> e : after.entrySet()) {
            long diff = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (diff == 0) {
                continue;
            }
            for (String f : filter) {
                if (e.getKey().contains(f)) {
                    d.put(e.getKey(), diff);
                    break;
                }
            }
        }
        return d;
    }
}
