package org.nettyxdp.channel;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.xsk.XdpFastPath;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Opens a channel's fast path on its event loop without ever blocking it. An interface queue whose
 * previous AF_XDP socket was closed moments ago refuses new sockets ({@code EBUSY}) until the kernel
 * has released it; the attempt is then retried, as a task scheduled after the delay the socket layer
 * suggests, until it succeeds, fails otherwise, or {@link #BUSY_TIMEOUT_MILLIS} have passed. The
 * first attempt runs at once, so an open that finds no busy queue completes within the caller.
 */
final class FastPathOpener implements Runnable {
    /** How long busy queues are waited for, in all. */
    static final long BUSY_TIMEOUT_MILLIS = 2000;

    private final EventLoop loop;
    private final XdpFastPath.Opening opening;
    private final Promise<XdpFastPath> result;
    private final long deadline;

    private FastPathOpener(EventLoop loop, XdpFastPath.Opening opening) {
        this.loop = loop;
        this.opening = opening;
        this.result = loop.newPromise();
        this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUSY_TIMEOUT_MILLIS);
    }

    /** Starts opening {@code opening} on {@code loop}, from {@code loop}. */
    static FastPathOpener start(EventLoop loop, XdpFastPath.Opening opening) {
        FastPathOpener opener = new FastPathOpener(loop, opening);
        opener.run();
        return opener;
    }

    /** The fast path, once open; fails with the cause, or is cancelled by {@link #cancel()}. */
    Future<XdpFastPath> future() {
        return result;
    }

    /** Gives up (the channel closed): whatever was opened so far is given back at once. Event loop. */
    void cancel() {
        if (result.cancel(false)) {
            opening.abandon();
        }
    }

    @Override
    public void run() {
        if (result.isDone()) {
            opening.abandon();
            return;
        }
        try {
            XdpFastPath fp = opening.attempt();
            if (!result.trySuccess(fp)) {
                fp.close();
            }
        } catch (BindBusyException e) {
            if (System.nanoTime() - deadline >= 0) {
                opening.abandon();
                result.tryFailure(new IOException(e.getMessage() + ": the queue was still busy after "
                        + BUSY_TIMEOUT_MILLIS + " ms", e));
                return;
            }
            try {
                loop.schedule(this, e.retryAfterNanos(), TimeUnit.NANOSECONDS);
            } catch (RuntimeException rejected) {
                // the loop is shutting down
                opening.abandon();
                result.tryFailure(rejected);
            }
        } catch (Throwable t) {
            // the opening gave everything back itself
            result.tryFailure(t);
        }
    }
}
