package org.nettyxdp.benchmarks.harness;

/**
 * The offered load of one measured run ({@link Harness#drive}): built and {@link #run run} on a
 * thread inside the client namespace, read and stopped from the driving thread.
 */
interface Load extends AutoCloseable {
    /** Sends until {@link #stop()}. */
    void run() throws Exception;

    /** Datagrams sent so far; safe from any thread. */
    long sent();

    /** Makes {@link #run()} return; safe from any thread. */
    void stop();

    @Override
    void close();
}
