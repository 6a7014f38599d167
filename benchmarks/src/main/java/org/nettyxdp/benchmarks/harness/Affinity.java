package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Thread placement for the harness: pins the calling thread to one CPU ({@code sched_setaffinity}
 * through FFM), moves it into a network namespace ({@code setns}), and pins kernel threads (the
 * veths' threaded NAPI pollers) with {@code taskset}.
 */
final class Affinity {
    private static final MethodHandle SCHED_SETAFFINITY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));

    /** Nice value the script runs the JVM at; the NAPI kthreads get the same, so neither starves the other. */
    static final int NICE = Integer.getInteger("bench.nice", 0);

    private Affinity() {
    }

    /** Pins the calling thread to {@code cpu}. */
    static void pin(int cpu) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8);
            mask.set(JAVA_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            int r = (int) SCHED_SETAFFINITY.invokeExact(0, 128L, mask);
            if (r != 0) {
                throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Moves the calling thread into the named network namespace ({@code /var/run/netns/NAME}). */
    static void enterNetns(String name) throws SyscallException {
        int fd = Syscalls.open("/var/run/netns/" + name, Linux.O_RDONLY | Linux.O_CLOEXEC);
        try {
            Syscalls.setns(fd, Linux.CLONE_NEWNET);
        } finally {
            Syscalls.close(fd);
        }
    }

    /** A factory of threads that pin themselves to {@code cpu} before running; records the last one made. */
    static final class PinnedFactory implements ThreadFactory {
        private final int cpu;
        private final String name;
        volatile Thread last;

        PinnedFactory(int cpu, String name) {
            this.cpu = cpu;
            this.name = name;
        }

        @Override
        public Thread newThread(Runnable r) {
            // a FastThreadLocalThread, as Netty's DefaultThreadFactory makes: Netty 4.2's Recycler pools
            // objects (ChannelOutboundBuffer entries...) only on those; a plain Thread allocates each anew
            Thread t = new io.netty.util.concurrent.FastThreadLocalThread(() -> {
                pin(cpu);
                r.run();
            }, name);
            t.setDaemon(true);
            last = t;
            return t;
        }
    }

    /**
     * Switches the veth's NAPI to a kernel thread ({@code /sys/class/net/IF/threaded}); a veth has
     * NAPI only while an XDP program (or GRO) is on it, so this is done after attaching. Returns
     * false when the kernel refused (then NAPI runs as softirq on the CPU that scheduled it).
     */
    static boolean threadedNapi(String ns, String itf) {
        try {
            if (ns == null) {
                Files.writeString(Path.of("/sys/class/net", itf, "threaded"), "1");
            } else {
                Proc.run("ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /sys/class/net/" + itf + "/threaded");
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Pins every kernel thread whose name starts with {@code napi/IF-} for one of {@code interfaces}
     * to {@code cpu}; returns their names and {@code /proc/PID} directories.
     */
    static java.util.Map<String, Path> pinNapiThreads(List<String> interfaces, int cpu) {
        java.util.Map<String, Path> pinned = new java.util.LinkedHashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String pid = p.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String comm;
                try {
                    comm = Files.readString(p.resolve("comm")).trim();
                } catch (IOException e) {
                    continue;
                }
                for (String itf : interfaces) {
                    if (comm.startsWith("napi/" + itf + "-")) {
                        Proc.run("taskset", "-pc", Integer.toString(cpu), pid);
                        if (NICE != 0) {
                            Proc.run("renice", "-n", Integer.toString(NICE), "-p", pid);
                        }
                        pinned.put(comm, p);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return pinned;
    }
}
