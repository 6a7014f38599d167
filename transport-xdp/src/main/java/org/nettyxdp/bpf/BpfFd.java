package org.nettyxdp.bpf;

import org.nettyxdp.sys.Syscalls;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A kernel BPF object this process holds through a file descriptor (a map, a program, a link):
 * closed exactly once, and refused after that.
 */
abstract class BpfFd implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    BpfFd(int fd) {
        this.fd = fd;
    }

    /** The descriptor, without the open check (for messages and {@link #toString()}). */
    final int rawFd() {
        return fd;
    }

    /** The descriptor; throws {@link IllegalStateException} once closed. */
    public int fd() {
        ensureOpen();
        return fd;
    }

    /** Whether {@link #close()} was called. */
    public final boolean isClosed() {
        return closed.get();
    }

    /** Throws {@link IllegalStateException} once closed. */
    protected final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException(describe() + " is closed");
        }
    }

    /** What this object is, for messages: e.g. {@code "BPF map nx_ports"}. */
    abstract String describe();

    /** Closes the descriptor; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Syscalls.close(fd);
        }
    }

    /** {@code ", closed"} once closed, for {@link #toString()}. */
    final String closedSuffix() {
        return closed.get() ? ", closed" : "";
    }
}
