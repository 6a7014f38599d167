package org.nettyxdp.testing;

import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A named network namespace with one Java thread living inside it: sockets that code submitted
 * through {@link #call} creates belong to the namespace ({@code setns(CLONE_NEWNET)} is per thread).
 */
public final class NetNs implements AutoCloseable {
    private final String name;
    private final ExecutorService thread;

    NetNs(String name) {
        this.name = name;
        Shell.run("ip netns add " + name);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "netns-" + name);
            t.setDaemon(true);
            return t;
        });
        try {
            call(() -> {
                enter(name);
                return null;
            });
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot enter netns " + name, e);
        }
        Shell.run("ip netns exec " + name + " ip link set lo up");
    }

    /** Moves the calling thread into namespace {@code name}. */
    public static void enter(String name) throws SyscallException {
        int fd = Syscalls.open("/var/run/netns/" + name, Linux.O_RDONLY | Linux.O_CLOEXEC);
        try {
            Syscalls.setns(fd, Linux.CLONE_NEWNET);
        } finally {
            Syscalls.close(fd);
        }
    }

    /** The namespace's name, as {@code ip netns} knows it. */
    public String name() {
        return name;
    }

    /** Runs {@code task} on the namespace's thread and returns its result. */
    public <T> T call(Callable<T> task) throws Exception {
        try {
            return thread.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    /** Starts {@code task} on the namespace's thread without waiting for it. */
    public <T> Future<T> submit(Callable<T> task) {
        return thread.submit(task);
    }

    /** Runs a shell command inside the namespace. */
    public String exec(String command) {
        return Shell.run("ip netns exec " + name + " " + command);
    }

    @Override
    public void close() {
        thread.shutdownNow();
        Shell.tryRun("ip netns del " + name);
    }
}
