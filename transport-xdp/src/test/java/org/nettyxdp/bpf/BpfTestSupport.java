package org.nettyxdp.bpf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Host checks and command helpers for the BPF tests. */
final class BpfTestSupport {
    private BpfTestSupport() {
    }

    /** Whether the effective uid is 0 (read from /proc/self/status). */
    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && f[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Skips the test unless running as root. */
    static void assumeRoot() {
        Assumptions.assumeTrue(isRoot(), "needs root (CAP_BPF + CAP_NET_ADMIN) for bpf(2); run the tests as root");
    }

    /** Skips the test unless root and the {@code ip} command exist. */
    static void assumeRootWithIp() {
        assumeRoot();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
                        || Files.isExecutable(Path.of("/usr/bin/ip")),
                "needs the iproute2 'ip' command to create veth pairs");
    }

    /** Result of a command: exit code and combined output. */
    record Result(int exit, String output) {
    }

    /** Runs {@code cmd}, returning its exit code and output (stdout + stderr). */
    static Result run(String... cmd) {
        try {
            Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code cmd} and fails unless it exits 0. */
    static String runOk(String... cmd) {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.output());
        }
        return r.output();
    }
}
