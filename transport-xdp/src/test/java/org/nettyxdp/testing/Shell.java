package org.nettyxdp.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host commands (ip, ethtool, sysctl) for test set-up and reports failures with their output. */
public final class Shell {
    private Shell() {
    }

    /** Runs {@code command} (split on spaces) and returns its standard output; throws if it fails. */
    public static String run(String command) {
        Result r = tryRun(command);
        if (r.exitCode != 0) {
            throw new IllegalStateException("`" + command + "` exited " + r.exitCode + ": " + r.output);
        }
        return r.output;
    }

    /** Runs {@code command} and returns its exit code and combined output, never throwing. */
    public static Result tryRun(String command) {
        List<String> args = new ArrayList<>(List.of(command.trim().split("\\s+")));
        ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true);
        try {
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }

    /** True when the tests run as root (uid 0), which every AF_XDP test needs. */
    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"))
                || tryRun("id -u").output.trim().equals("0");
    }

    /** Exit code and combined output of a command. */
    public record Result(int exitCode, String output) {
    }
}
