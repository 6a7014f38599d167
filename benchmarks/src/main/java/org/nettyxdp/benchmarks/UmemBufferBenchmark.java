package org.nettyxdp.benchmarks;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.FillRing;
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
import java.util.concurrent.locks.ReentrantLock;

/**
 * The UMEM frame as a Netty buffer: {@link UmemFramePool#wrap} (what the RX path does per datagram)
 * then {@code release()} (what the application does), and the refill that moves the released frames
 * back onto the fill ring ({@link UmemFramePool#takeForReceive}), once per batch of 64 as the RX path does. The kernel's
 * side (filling frames, consuming the fill ring) is simulated; the socket is real ({@link BenchVeth}).
 * Run with {@code -prof gc}: it should allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class UmemBufferBenchmark {
    private static final int BATCH = 64;
    private static final int HEAD = 42; // payload after Ethernet + IPv4 + UDP
    private static final int PAYLOAD = 64;

    private BenchVeth veth;
    private UmemFramePool pool;
    private FillRing fill;
    private final long[] batch = new long[BATCH];
    private final long[] refill = new long[BATCH];
    private final ReentrantLock ringLock = new ReentrantLock();

    @Setup(Level.Trial)
    public void setup() throws SyscallException {
        veth = new BenchVeth(4096);
        pool = new UmemFramePool(veth.umem.region(), veth.umem.config().frameSize(), ByteBufAllocator.DEFAULT);
        fill = veth.xsk.fill();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        veth.close();
    }

    /**
     * One frame's trip per operation, as on the RX path: the pool refills the fill ring (once per
     * 64), the "kernel" hands the frames back as received, each is wrapped as a buffer and released.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long wrapRelease() {
        int n = refill();
        long sum = 0;
        for (int i = 0; i < n; i++) {
            UmemByteBuf buf = pool.wrap(batch[i], HEAD, HEAD + PAYLOAD, 0);
            sum += buf.readableBytes();
            buf.release();
        }
        return sum;
    }

    /**
     * As {@link #wrapRelease}, with the RX path's descriptor check: each "received" descriptor (the
     * packet after the kernel's headroom) is taken with the pool's one checked move, wrapped over its
     * payload and released.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long receiveWrapRelease() {
        int n = refill();
        long sum = 0;
        for (int i = 0; i < n; i++) {
            long addr = batch[i] + XdpPacket.XDP_PACKET_HEADROOM;
            if (pool.takeReceived(addr, HEAD + PAYLOAD) == UmemFramePool.NOT_RECEIVED) {
                continue;
            }
            UmemByteBuf buf = pool.wrapReceived(batch[i], HEAD, HEAD + PAYLOAD, 0);
            sum += buf.readableBytes();
            buf.release();
        }
        return sum;
    }

    /**
     * One received frame echoed in place per operation, the frame's side of it: wrapped as received,
     * held for sending by the pool (the TX path), released by the outbound buffer, and given back when
     * the "kernel" reports the send complete, in batches of 64 as the completion ring does.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long inPlaceSendAndComplete() {
        int n = refill();
        long sum = 0;
        for (int i = 0; i < n; i++) {
            UmemByteBuf buf = pool.wrap(batch[i], HEAD, HEAD + PAYLOAD, 0);
            if (!pool.holdForSend(buf)) {
                throw new IllegalStateException("not held");
            }
            sum += buf.readableBytes();
            buf.release();
        }
        if (pool.sent(batch, n) != 0) {
            throw new IllegalStateException("unknown frames completed");
        }
        return sum;
    }

    /**
     * Takes the frames the "kernel" received and refills its fill ring, as the fast path's queue does
     * after a batch, under the lock of the shared fill ring.
     */
    private int refill() {
        int n = veth.takeFill(batch);
        ringLock.lock();
        try {
            int slots = fill.reserve(BATCH);
            int k = pool.takeForReceive(refill, slots);
            for (int i = 0; i < k; i++) {
                fill.put(i, refill[i]);
            }
            fill.submit(k);
        } finally {
            ringLock.unlock();
        }
        return n;
    }
}
