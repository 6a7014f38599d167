package org.nettyxdp.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
 * {@link Checksum#sum} (8 native-order bytes a step, one byte swap at the end) against the previous
 * big-endian word loop and the obvious byte-at-a-time loop, over a UDP payload of a small (odd and
 * even) and a full-MTU datagram in native memory, as in a UMEM frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChecksumBenchmark {

    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final long M32 = 0xFFFF_FFFFL;

    @Param({"63", "64", "1472"})
    public int size;

    private Arena arena;
    private MemorySegment data;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        // Offset by 42 bytes like a payload after Ethernet, IPv4 and UDP headers: not 8-aligned.
        // The segment runs on past the payload, as a UMEM frame does.
        data = arena.allocate(size + 42L + 64, 64).asSlice(42);
        byte[] bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, size);
        int expected = byteAtATime(data, size);
        if (Checksum.sum(data, 0, size) != expected || bigEndianWords() != expected) {
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

    // The previous implementation, kept to measure against in the same run: a big-endian load per word.

    @Benchmark
    public int bigEndianWords() {
        return foldBigEndian(accBigEndian(data, 0, size));
    }

    static long accBigEndian(MemorySegment segment, long offset, long length) {
        long acc = 0;
        int words = (int) (length >>> 3);
        for (int i = 0; i < words; i++) {
            long word = segment.get(BE64, offset + ((long) i << 3));
            acc += (word >>> 32) + (word & M32);
        }
        long position = offset + ((long) words << 3);
        if ((length & 4) != 0) {
            acc += segment.get(BE32, position) & M32;
            position += 4;
        }
        if ((length & 2) != 0) {
            acc += segment.get(BE16, position) & 0xFFFF;
            position += 2;
        }
        if ((length & 1) != 0) {
            acc += (segment.get(ValueLayout.JAVA_BYTE, position) & 0xFF) << 8;
        }
        return acc;
    }

    static int foldBigEndian(long acc) {
        acc = (acc >>> 32) + (acc & M32);
        acc = (acc >>> 32) + (acc & M32);
        acc = (acc >>> 16) + (acc & 0xFFFF);
        acc = (acc >>> 16) + (acc & 0xFFFF);
        return (int) acc;
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
