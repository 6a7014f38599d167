package org.nettyxdp.socket;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;

/**
 * {@code bind} of an AF_XDP socket was refused with {@code EBUSY}: the queue still has a socket. That
 * is usually transient (the kernel releases a closed socket's hold on its queue from a work queue,
 * moments after {@code close}), so a caller that must not block retries the whole open later, after
 * {@link #retryAfterNanos()}, for as long as it is prepared to wait.
 */
public final class BindBusyException extends SyscallException {
    private static final long serialVersionUID = 1L;

    private final long retryAfterNanos;

    BindBusyException(String call, long retryAfterNanos) {
        super(call, Errno.EBUSY);
        this.retryAfterNanos = retryAfterNanos;
    }

    /** A sensible delay before the next attempt. */
    public long retryAfterNanos() {
        return retryAfterNanos;
    }
}
