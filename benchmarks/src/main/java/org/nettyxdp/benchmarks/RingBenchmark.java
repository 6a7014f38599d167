package org.nettyxdp.benchmarks;

import org.nettyxdp.socket.CompletionRing;
import org.nettyxdp.socket.FillRing;
import org.nettyxdp.socket.TxRing;
import org.nettyxdp.sys.SyscallException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Our side of the AF_XDP rings, per descriptor, on a real socket bound to a veth made in setup
 * ({@link BenchVeth}, root needed): reserve a batch, write the descriptors, submit. The kernel's
 * consumption is simulated by moving the consumer index, so the numbers are the Java ring code
 * alone. {@link #txSendAndReap} is the real thing: a batch into the TX ring, one kick (copy-mode
 * send through the veth), completions reaped: what one sent packet costs the sending thread.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar RingBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RingBenchmark {
    private static final int BATCH = 64;
    private static final int FRAME = 2048;

    private BenchVeth veth;
    private FillRing fill;
    private TxRing tx;
    private CompletionRing completion;
    private long[] frames;
    private int sendFree;

    @Setup(Level.Trial)
    public void setup() throws SyscallException {
        veth = new BenchVeth(2048);
        fill = veth.xsk.fill();
        tx = veth.xsk.tx();
        completion = veth.xsk.completion();
        frames = new long[veth.umem.frameCount()];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = (long) i * FRAME;
        }
        sendFree = frames.length;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        veth.close();
    }

    /** Fill ring: reserve 64, write 64 frame addresses, submit. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int fillReserveSubmit() {
        int n = fill.reserve(BATCH);
        for (int i = 0; i < n; i++) {
            fill.put(i, frames[i]);
        }
        fill.submit(n);
        veth.consumeFill();
        return n;
    }

    /** TX ring: reserve 64, write 64 descriptors, submit (nothing sent). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int txReserveSubmit() {
        int n = tx.reserve(BATCH);
        for (int i = 0; i < n; i++) {
            tx.put(i, frames[i] + 256, 64, 0);
        }
        tx.submit(n);
        veth.consumeTx();
        return n;
    }

    /**
     * TX for real: 32 descriptors of 60-byte frames (copy mode sends at most 32 per kick), one
     * {@code sendto} kick, completions recycled. The frames go to the veth's peer in its own
     * namespace, which has no address and drops them.
     */
    @Benchmark
    @OperationsPerInvocation(32)
    public int txSendAndReap() {
        int c = completion.peek(4096);
        for (int i = 0; i < c; i++) {
            frames[sendFree++] = completion.addr(i);
        }
        completion.release(c);
        int n = tx.reserve(Math.min(32, sendFree));
        for (int i = 0; i < n; i++) {
            tx.put(i, frames[--sendFree], 60, 0);
        }
        tx.submit(n);
        veth.xsk.kickTx();
        return n;
    }
}
