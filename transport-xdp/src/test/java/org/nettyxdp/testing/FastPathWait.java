package org.nettyxdp.testing;

import org.nettyxdp.channel.XdpDatagramChannel;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Waits for a channel's fast path. A queue the previous channel just left can stay busy for a moment
 * in the kernel: the bind then completes on the kernel socket and the fast path joins once the queue
 * is free (see {@code BusyQueueBindTest}), so a test that rebinds at once waits for it.
 */
public final class FastPathWait {
    private FastPathWait() {
    }

    /** Asserts that {@code ch} runs on the fast path within 5 s. */
    public static void awaitFastPath(XdpDatagramChannel ch, String message) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!ch.isFastPathActive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(ch.isFastPathActive(), message);
    }
}
