package org.nettyxdp.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frame pool on its own, over native memory with no kernel: frames move between free, the
 * "kernel", the application and sending exactly as the fast path moves them, every move is checked,
 * and the UMEM's lifetime follows the buffers the application holds.
 */
class UmemFramePoolTest {
    private static final byte[] PING = "ping".getBytes(StandardCharsets.US_ASCII);
    private static final int FRAMES = 64;

    private final TestPool frames = new TestPool(FRAMES);
    private final UmemFramePool pool = frames.pool;

    @AfterEach
    void close() {
        if (frames.arena.scope().isAlive()) {
            frames.close();
        }
    }

    private void assertFrames(int free, int kernel, int application, int sending) {
        FrameAccounting a = pool.accounting();
        assertEquals(new FrameAccounting(FRAMES, free, kernel, application, sending), a);
        assertTrue(a.balanced());
        assertEquals(application, pool.applicationFrames());
    }

    @Test
    void rejectsARegionThatIsNotWholeFrames() {
        assertThrows(IllegalArgumentException.class, () -> new UmemFramePool(frames.region.asSlice(0, 3000),
                TestPool.FRAME_SIZE, null));
        assertThrows(IllegalArgumentException.class, () -> new UmemFramePool(frames.region, 3072, null));
        assertThrows(IllegalArgumentException.class, () -> new UmemFramePool(frames.region, 1024, null));
    }

    @Test
    void wrapHandsOutTheFramesOwnBufferAndReleaseFreesTheFrame() {
        assertFrames(FRAMES, 0, 0, 0);
        long addr = frames.fill();
        assertFrames(FRAMES - 1, 1, 0, 0);
        UmemByteBuf buf = pool.wrap(addr, 42, 46, 0);
        assertEquals(addr, buf.frameAddress());
        assertEquals(addr / TestPool.FRAME_SIZE, buf.frameIndex());
        assertEquals(1, buf.refCnt());
        assertEquals(42, buf.headroom());
        assertEquals(4, buf.readableBytes());
        assertFrames(FRAMES - 1, 0, 1, 0);
        assertTrue(pool.owns(buf));
        assertFalse(pool.owns(new TestPool(FRAMES).pool.allocate(0, 0)));
        assertTrue(buf.release());
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void aFreedBufferObjectCarriesALaterDatagramFresh() {
        UmemByteBuf first = frames.receive(PING, 42);
        first.retain().readByte();
        first.release(2);
        Set<Long> seen = new HashSet<>();
        Set<UmemByteBuf> held = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        UmemByteBuf again = null;
        for (int i = 0; i < FRAMES; i++) {
            UmemByteBuf b = frames.receive(PING, 10);
            assertTrue(seen.add(b.frameAddress()), "frame handed out twice");
            assertTrue(held.add(b), "buffer object handed out twice");
            if (b == first) {
                again = b;
            }
        }
        // every frame is held: the first's object came back (the owner's cache ran out and refilled)
        assertNotNull(again, "the freed buffer object is recycled");
        assertEquals(1, again.refCnt());
        assertEquals(0, again.readerIndex());
        assertEquals(10, again.headroom());
        assertEquals("ping", again.toString(StandardCharsets.US_ASCII));
        held.forEach(ByteBuf::release);
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void aReceiveLoopWorksOnFewBufferObjects() {
        try (TestPool big = new TestPool(1024)) {
            Set<UmemByteBuf> objects = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (int i = 0; i < 4 * 1024; i++) {
                UmemByteBuf b = big.receive(PING, 42);
                objects.add(b);
                assertEquals("ping", b.toString(StandardCharsets.US_ASCII));
                b.release();
            }
            // the most recently freed objects are reused first: a cache's worth, not one per frame
            assertTrue(objects.size() <= UmemFramePool.OWNER_CACHE, objects.size() + " objects");
        }
    }

    @Test
    void wrapChecksBoundsAndWhereTheFrameIs() {
        long addr = frames.fill();
        assertThrows(IllegalArgumentException.class, () -> pool.wrap(addr, 10, 9, 0));
        assertThrows(IllegalArgumentException.class, () -> pool.wrap(addr, -1, 9, 0));
        assertThrows(IllegalArgumentException.class, () -> pool.wrap(addr, 0, TestPool.FRAME_CAPACITY + 1, 0));
        assertThrows(IllegalArgumentException.class, () -> pool.wrap((long) FRAMES * TestPool.FRAME_SIZE, 0, 1, 0));
        UmemByteBuf buf = pool.wrap(addr, 0, TestPool.FRAME_CAPACITY, 0);
        assertEquals(TestPool.FRAME_CAPACITY, buf.capacity());
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.wrap(addr, 0, 1, 0));
        assertTrue(twice.getMessage().contains("held by the application"), twice.getMessage());
        assertThrows(IllegalStateException.class, () -> pool.drop(addr));
        // a free frame was never given to the kernel
        long free = (long) (FRAMES - 1) * TestPool.FRAME_SIZE;
        assertThrows(IllegalStateException.class, () -> pool.wrap(free, 0, 1, 0));
        buf.release();
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void theBufferCannotGrowPastItsFrame() {
        UmemByteBuf buf = frames.receive(PING, 42);
        assertEquals(TestPool.FRAME_CAPACITY - 42, buf.maxCapacity());
        buf.writerIndex(buf.capacity());
        assertThrows(IndexOutOfBoundsException.class, () -> buf.writeByte(0));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.getByte(buf.capacity()));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.setByte(-1, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.nioBuffer(0, buf.capacity() + 1));
        buf.release();
    }

    @Test
    void aDroppedFrameIsFreeAgain() {
        long addr = frames.fill();
        pool.drop(addr);
        assertFrames(FRAMES, 0, 0, 0);
        assertThrows(IllegalStateException.class, () -> pool.drop(addr), "dropped twice");
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void aDoubleReleaseIsReportedAndFreesNothing() {
        UmemByteBuf buf = frames.receive(PING, 42);
        ByteBuf slice = buf.retainedSlice();
        assertFalse(buf.release());
        assertTrue(slice.release());
        assertThrows(IllegalReferenceCountException.class, buf::release);
        assertThrows(IllegalReferenceCountException.class, slice::release);
        assertThrows(IllegalReferenceCountException.class, () -> buf.getByte(0));
        assertFrames(FRAMES, 0, 0, 0);
        // every frame is handed out exactly once
        Set<Long> seen = new HashSet<>();
        long[] addrs = new long[FRAMES + 1];
        assertEquals(FRAMES, pool.takeForReceive(addrs, FRAMES + 1));
        for (int i = 0; i < FRAMES; i++) {
            assertTrue(seen.add(addrs[i]));
        }
        assertEquals(0, pool.takeForReceive(addrs, 1));
        pool.cancelReceive(addrs, 0, FRAMES);
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void frameBuffersLeaveFramesForReceiving() {
        UmemByteBuf buf = pool.allocate(62, 0);
        assertEquals(62, buf.headroom());
        assertEquals(0, buf.readerIndex());
        assertEquals(0, buf.writerIndex());
        assertEquals(TestPool.FRAME_CAPACITY - 62, buf.capacity());
        assertFrames(FRAMES - 1, 0, 1, 0);
        assertNull(pool.allocate(0, FRAMES - 1), "would leave fewer than the reserve free");
        assertThrows(IllegalArgumentException.class, () -> pool.allocate(TestPool.FRAME_CAPACITY + 1, 0));
        buf.release();
        assertFrames(FRAMES, 0, 0, 0);
    }

    @Test
    void copiesAreSentInFramesOfTheirOwn() {
        long[] addrs = new long[8];
        assertEquals(8, pool.takeForSend(addrs, 8));
        assertFrames(FRAMES - 8, 0, 0, 8);
        pool.cancelSend(addrs, 3); // three not needed after all
        assertFrames(FRAMES - 5, 0, 0, 5);
        long[] completed = {addrs[3], addrs[4], addrs[5], addrs[6], addrs[7], addrs[7]};
        assertEquals(1, pool.sent(completed, completed.length), "the duplicate completion is ignored");
        assertFrames(FRAMES, 0, 0, 0);
        assertThrows(IllegalStateException.class, () -> pool.cancelSend(addrs, 1), "not being sent");
    }

    @Test
    void aBufferSentInPlaceStaysUntilTheKernelIsDone() {
        UmemByteBuf buf = frames.receive(PING, 42);
        assertTrue(pool.holdForSend(buf));
        assertFalse(pool.holdForSend(buf), "already being sent: the caller copies");
        assertEquals(2, buf.refCnt());
        assertFrames(FRAMES - 1, 0, 0, 1);
        assertFalse(buf.release(), "the pool's reference keeps the frame");
        assertEquals("ping", buf.toString(StandardCharsets.US_ASCII));
        assertEquals(0, pool.sent(new long[] {buf.frameAddress()}, 1));
        assertFrames(FRAMES, 0, 0, 0);
        assertEquals(0, buf.refCnt());
        assertEquals(0, pool.applicationFrames());
        assertEquals(FRAMES, pool.takeForReceive(new long[FRAMES], FRAMES), "the frame is free to take again");
    }

    @Test
    void aBufferStillHeldAfterItsSendIsTheApplicationsAgain() {
        UmemByteBuf buf = frames.receive(PING, 42);
        assertTrue(pool.holdForSend(buf));
        pool.sent(new long[] {buf.frameAddress()}, 1);
        assertFrames(FRAMES - 1, 0, 1, 0);
        assertEquals(1, pool.applicationFrames());
        assertTrue(pool.holdForSend(buf), "can be sent again");
        pool.cancelHold(buf);
        assertEquals(1, buf.refCnt());
        assertFrames(FRAMES - 1, 0, 1, 0);
        assertTrue(buf.release());
        assertFrames(FRAMES, 0, 0, 0);
        assertEquals(0, pool.applicationFrames());
        assertFalse(pool.holdForSend(io.netty.buffer.Unpooled.directBuffer(4)), "not a frame of this pool");
    }

    @Test
    void releaseHandsTheFrameBackFromAnyThread() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            for (int round = 0; round < 20; round++) {
                UmemByteBuf[] held = new UmemByteBuf[FRAMES / 2];
                for (int i = 0; i < held.length; i++) {
                    held[i] = frames.receive(PING, 42);
                }
                Future<?> released = other.submit(() -> {
                    for (UmemByteBuf b : held) {
                        assertEquals("ping", b.toString(StandardCharsets.US_ASCII));
                        b.release();
                    }
                });
                released.get(10, TimeUnit.SECONDS);
                assertFrames(FRAMES, 0, 0, 0);
            }
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void twoThreadsAdjustingBuffersOfOnePoolDoNotRace() throws Exception {
        int rounds = 200_000;
        UmemByteBuf[] bufs = new UmemByteBuf[2];
        for (int t = 0; t < 2; t++) {
            byte mark = (byte) ('A' + t);
            bufs[t] = frames.receive(new byte[] {mark, mark, mark, mark}, 40 + t * 10);
        }
        onTwoThreads(t -> {
            UmemByteBuf buf = bufs[t];
            byte mark = (byte) ('A' + t);
            int headroom = buf.headroom();
            for (int i = 0; i < rounds; i++) {
                int grow = 1 + i % headroom;
                buf.adjustHead(-grow);
                if (buf.headroom() != headroom - grow || buf.writerIndex() != 4 + grow
                        || buf.getByte(grow) != mark) {
                    throw new AssertionError("round " + i + ": " + buf);
                }
                buf.adjustTail(3).adjustTail(-3);
                buf.adjustHead(grow);
                if (buf.headroom() != headroom || buf.readableBytes() != 4 || buf.getInt(0) != mark * 0x01010101) {
                    throw new AssertionError("round " + i + ": " + buf);
                }
            }
            buf.release();
        });
    }

    @Test
    void twoThreadsReceivingFromOnePoolNeverShareABufferObject() throws Exception {
        int rounds = 100_000;
        java.util.concurrent.atomic.AtomicIntegerArray inUse =
                new java.util.concurrent.atomic.AtomicIntegerArray(pool.bufferCount());
        onTwoThreads(t -> {
            byte mark = (byte) ('A' + t);
            UmemByteBuf[] held = new UmemByteBuf[8];
            long[] frame = new long[1];
            for (int i = 0; i < rounds; i++) {
                int slot = i % held.length;
                if (held[slot] != null) {
                    UmemByteBuf b = held[slot];
                    if (b.getByte(0) != mark || b.getByte(3) != mark) {
                        throw new AssertionError("round " + i + ": another thread's bytes in " + b);
                    }
                    inUse.set(b.bufferIndex(), 0);
                    b.release();
                }
                if (pool.takeForReceive(frame, 1) != 1) {
                    throw new AssertionError("round " + i + ": no free frame");
                }
                long data = frame[0] + org.nettyxdp.packet.XdpPacket.XDP_PACKET_HEADROOM + 42;
                frames.region.asSlice(data, 4).fill(mark);
                UmemByteBuf b = pool.wrap(frame[0], 42, 46, 0);
                if (!inUse.compareAndSet(b.bufferIndex(), 0, 1)) {
                    throw new AssertionError("round " + i + ": buffer object " + b.bufferIndex() + " twice");
                }
                held[slot] = b;
            }
            for (UmemByteBuf b : held) {
                inUse.set(b.bufferIndex(), 0);
                b.release();
            }
        });
    }

    /** One thread's part of {@link #onTwoThreads}: {@code t} is 0 or 1. */
    private interface ThreadBody {
        void run(int t) throws Exception;
    }

    /** Runs {@code body} on two threads started together; then every frame must be free again. */
    private void onTwoThreads(ThreadBody body) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?>[] done = new Future<?>[2];
            for (int t = 0; t < 2; t++) {
                int id = t;
                done[t] = threads.submit(() -> {
                    start.await();
                    body.run(id);
                    return null;
                });
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
            assertFrames(FRAMES, 0, 0, 0);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void closingWaitsForTheApplicationsLastBuffer() throws Exception {
        UmemByteBuf held = frames.receive(PING, 42);
        UmemByteBuf sending = frames.receive(PING, 42);
        assertTrue(pool.holdForSend(sending));
        sending.release();
        AtomicInteger drained = new AtomicInteger();
        pool.close(drained::incrementAndGet);
        assertTrue(pool.isClosed());
        assertEquals(0, sending.refCnt(), "a frame being sent when its sockets closed is released");
        assertEquals(0, drained.get(), "the application still holds a buffer");
        assertNull(pool.allocate(0, 0), "no frame handed out once closed");
        assertEquals(0, pool.takeForReceive(new long[1], 1));
        assertEquals(0, pool.takeForSend(new long[1], 1));
        assertEquals("ping", held.toString(StandardCharsets.US_ASCII), "still mapped");
        CountDownLatch released = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            held.release();
            released.countDown();
        });
        t.start();
        assertTrue(released.await(10, TimeUnit.SECONDS));
        t.join();
        assertEquals(1, drained.get(), "ran on the releasing thread");
        pool.close(drained::incrementAndGet);
        assertEquals(1, drained.get(), "once");
    }

    @Test
    void anEmptyPoolClosesAtOnce() {
        AtomicInteger drained = new AtomicInteger();
        pool.close(drained::incrementAndGet);
        assertEquals(1, drained.get());
    }

    @Test
    void accessAfterTheUmemIsUnmappedThrowsInsteadOfCrashing() throws Exception {
        Umem umem = Umem.allocate(new UmemConfig(2048, 64, 0, 0));
        UmemFramePool real = new UmemFramePool(umem.region(), 2048, io.netty.buffer.ByteBufAllocator.DEFAULT);
        long[] addr = new long[1];
        real.takeForReceive(addr, 1);
        UmemByteBuf buf = real.wrap(addr[0], 42, 46, 0);
        buf.setInt(0, 0x70696e67);
        ByteBuffer kept = buf.nioBuffer();
        ByteBuf slice = buf.slice();
        ByteBuf retained = buf.retainedDuplicate();
        real.close(() -> {
            try {
                umem.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(0x70696e67, kept.getInt(0), "mapped while the application holds a buffer");
        buf.release();
        assertEquals(0x70696e67, retained.getInt(0), "still held through the duplicate");
        retained.release(); // the last reference: the UMEM is unmapped now
        assertThrows(IllegalStateException.class, () -> kept.getInt(0), "a kept NIO buffer");
        assertThrows(IllegalReferenceCountException.class, () -> slice.getInt(0), "a kept slice");
        assertThrows(IllegalReferenceCountException.class, () -> buf.getInt(0), "the released buffer");
        assertThrows(IllegalStateException.class, () -> umem.region().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        umem.close(); // idempotent
        assertNotNull(buf.toString());
        assertArrayEquals(new long[] {addr[0]}, addr);
    }
}
