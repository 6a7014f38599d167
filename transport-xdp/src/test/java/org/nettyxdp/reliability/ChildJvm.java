package org.nettyxdp.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A child JVM running {@link ChildMain} with this JVM's java binary and test classpath, optionally
 * behind a command prefix ({@code ip netns exec NS}, {@code setpriv ...}). Its standard output and
 * error are collected line by line; {@link #close()} kills it if still alive.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> all = new CopyOnWriteArrayList<>();

    private ChildJvm(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    all.add(line);
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the child died: what it said is in `all`
            }
        }, "child-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * This JVM's test classpath. Surefire runs this module's tests on the module path (the library has
     * a {@code module-info}), so the entries are split between the module path and the class path;
     * the child gets them all on its class path.
     */
    static String testClasspath() {
        String modules = System.getProperty("jdk.module.path", "");
        String classes = System.getProperty("java.class.path", "");
        return modules.isEmpty() ? classes : classes.isEmpty() ? modules : modules + java.io.File.pathSeparator + classes;
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts {@code ChildMain args...} behind {@code prefix} with the given classpath and extra JVM options. */
    static ChildJvm start(List<String> prefix, String classpath, List<String> jvmOptions, String... args) {
        List<String> options = new ArrayList<>();
        options.add("--enable-native-access=ALL-UNNAMED");
        options.addAll(jvmOptions);
        return startMain(prefix, classpath, options, ChildMain.class, args);
    }

    /** Starts {@code main args...} behind {@code prefix} with exactly the given JVM options (no native access flag). */
    static ChildJvm startMain(List<String> prefix, String classpath, List<String> jvmOptions, Class<?> main,
                              String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(javaBinary());
        cmd.add("-XX:-UsePerfData");
        cmd.add("-Xshare:auto");
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.addAll(jvmOptions);
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        try {
            return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** Starts {@code ChildMain args...} with this JVM's classpath. */
    static ChildJvm start(List<String> prefix, String... args) {
        return start(prefix, testClasspath(), List.of(), args);
    }

    /** Waits for an output line starting with {@code prefix}; fails with everything the child said so far. */
    String await(String prefix, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (;;) {
            long left = deadline - System.nanoTime();
            String line = lines.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (line == null) {
                throw new AssertionError("child did not print '" + prefix + "' within " + timeoutMillis
                        + " ms (alive: " + process.isAlive() + "); output:\n" + output());
            }
        }
    }

    String output() {
        return String.join("\n", all);
    }

    Process process() {
        return process;
    }

    /** SIGKILL, then waits for the process to be gone; returns the exit code. */
    int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " survived SIGKILL");
        }
        return process.exitValue();
    }

    /** Waits for the child to exit by itself. */
    int waitFor(long timeoutMillis) throws InterruptedException {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child did not exit within " + timeoutMillis + " ms; output:\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * This JVM's classpath made readable by any user (for a child running as {@code nobody}: the local
     * Maven repository under /root is private): jars are copied into {@code into}, directories (the
     * build's class directories under the world-readable work tree) are used in place.
     */
    static String worldReadableClasspath(Path into) throws IOException {
        Files.createDirectories(into);
        Files.setPosixFilePermissions(into, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String entry : testClasspath().split(java.io.File.pathSeparator)) {
            Path src = Path.of(entry);
            if (Files.isRegularFile(src)) {
                Path dst = into.resolve(i++ + "-" + src.getFileName());
                Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rw-r--r--"));
                out.add(dst.toString());
            } else if (Files.isDirectory(src)) {
                out.add(src.toString());
            }
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    /** Deletes a directory tree, best effort. */
    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            tree.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
