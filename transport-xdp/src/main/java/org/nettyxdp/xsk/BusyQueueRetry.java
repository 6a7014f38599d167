package org.nettyxdp.xsk;

import org.nettyxdp.socket.BindBusyException;

import java.util.concurrent.TimeUnit;

/**
 * How an open that found an interface queue still busy with an AF_XDP socket closed moments ago (the
 * kernel frees it asynchronously) is retried: later on the caller's event loop, never blocking it,
 * after the delay the failure suggests, for at most {@link #TIMEOUT_MILLIS} in all. Event-loop confined.
 */
public final class BusyQueueRetry {
    /** How long, in all, a busy queue is retried. */
    public static final long TIMEOUT_MILLIS = 2000;

    /** Runs a task on the caller's event loop after a delay. */
    public interface Scheduler {
        /** Runs {@code task} after {@code delayNanos}. */
        void schedule(Runnable task, long delayNanos);
    }

    private final Scheduler scheduler;
    private final long deadline;

    /** Starts the clock: retries end {@link #TIMEOUT_MILLIS} from now. */
    public BusyQueueRetry(Scheduler scheduler) {
        this.scheduler = scheduler;
        this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
    }

    /**
     * Schedules {@code attempt} after the delay {@code busy} suggests; false, scheduling nothing, once
     * the time is up.
     */
    public boolean retryLater(BindBusyException busy, Runnable attempt) {
        if (System.nanoTime() - deadline >= 0) {
            return false;
        }
        scheduler.schedule(attempt, busy.retryAfterNanos());
        return true;
    }
}
