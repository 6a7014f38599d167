package org.nettyxdp.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.nettyxdp.packet.Checksum;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link Checksum#sum} (8 bytes a step) against the obvious byte-at-a-time loop, over a UDP payload
 * of a small and a full-MTU datagram in native memory, as in a UMEM frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChecksumBenchmark {

    @Param({"64", "1472"})
    public int size;

    private Arena arena;
    private MemorySegment data;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        // Offset by 42 bytes like a payload after Ethernet, IPv4 and UDP headers: not 8-aligned.
        data = arena.allocate(size + 42L, 64).asSlice(42);
        byte[] bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, size);
        if (Checksum.sum(data, 0, size) != byteAtATime(data, size)) {
            throw new AssertionError("implementations disagree");
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int wordsOf8Bytes() {
        return Checksum.sum(data, 0, size);
    }

    @Benchmark
    public int byteAtATime() {
        return byteAtATime(data, size);
    }

    private static int byteAtATime(MemorySegment data, int size) {
        long sum = 0;
        for (int i = 0; i < size; i++) {
            int b = data.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            sum += (i & 1) == 0 ? b << 8 : b;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
