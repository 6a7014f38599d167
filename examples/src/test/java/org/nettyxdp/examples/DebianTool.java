package org.nettyxdp.examples;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A program from a Debian package that a test runs (a real DNS server or client). Missing, the test is
 * skipped with the package to install; in CI ({@code CI=true}), where {@code .ci/run} installs it, it
 * fails instead.
 */
final class DebianTool {
    private DebianTool() {
    }

    /** The path of {@code program}; skips (or, in CI, fails) the test when no directory on the path has it. */
    static String require(String program, String debianPackage) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        for (String dir : dirs) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String reason = "needs `" + program + "` (Debian package " + debianPackage + "): apt-get install " + debianPackage;
        if ("true".equals(System.getenv("CI"))) {
            fail(reason + " (.ci/run installs it)");
        }
        Assumptions.abort(reason);
        return null;
    }
}
