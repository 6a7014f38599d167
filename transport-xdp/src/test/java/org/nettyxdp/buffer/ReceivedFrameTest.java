package org.nettyxdp.buffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.XdpPacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pool's one checked move of a received frame ({@link UmemFramePool#takeReceived}): a packet in a
 * frame the kernel holds is taken for validation, then wrapped or dropped; any other descriptor moves
 * nothing but a bad packet's kernel frame, which goes back to the pool, once.
 */
class ReceivedFrameTest {
    private static final int FRAMES = 8;
    private static final int HEADROOM = XdpPacket.XDP_PACKET_HEADROOM;

    private final TestPool frames = new TestPool(FRAMES);
    private final UmemFramePool pool = frames.pool;

    @AfterEach
    void close() {
        frames.close();
    }

    private void assertFrames(int free, int kernel, int application) {
        FrameAccounting a = pool.accounting();
        assertEquals(new FrameAccounting(FRAMES, free, kernel, application, 0), a);
        assertTrue(a.balanced());
    }

    @Test
    void aPacketInAKernelFrameIsTakenThenWrappedOrDropped() {
        long a = frames.fill();
        long b = frames.fill();
        int index = pool.takeReceived(a + HEADROOM + 10, 60);
        assertEquals(a / TestPool.FRAME_SIZE, index);
        assertFrames(FRAMES - 2, 2, 0); // a received frame counts with the kernel's until it moves on
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(a + HEADROOM + 10, 60), "taken once");
        UmemByteBuf buf = pool.wrapReceived(a, 10, 70, 0);
        assertEquals(60, buf.readableBytes());
        assertFrames(FRAMES - 2, 1, 1);
        assertThrows(IllegalStateException.class, () -> pool.dropReceived(a), "the application's now");
        buf.release();

        assertEquals(b / TestPool.FRAME_SIZE, pool.takeReceived(b + HEADROOM, 1));
        pool.dropReceived(b);
        assertFrames(FRAMES, 0, 0);
        assertThrows(IllegalStateException.class, () -> pool.dropReceived(b), "never freed twice");
        assertThrows(IllegalStateException.class, () -> pool.wrapReceived(b, 0, 1, 0));
    }

    @Test
    void aBadPacketGivesItsKernelFrameBackOnce() {
        long a = frames.fill();
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(a + HEADROOM - 1, 60), "in the kernel headroom");
        assertFrames(FRAMES, 0, 0);
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(a + HEADROOM, 60), "no longer the kernel's");
        assertFrames(FRAMES, 0, 0);
        long b = frames.fill();
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(b + HEADROOM, TestPool.FRAME_CAPACITY + 1));
        long c = frames.fill();
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(c + HEADROOM, 0));
        long d = frames.fill();
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(d + HEADROOM, -1), "len is unsigned");
        assertFrames(FRAMES, 0, 0);
    }

    @Test
    void aDescriptorOutsideTheUmemOrInAFrameNotTheKernelsMovesNothing() {
        long a = frames.fill();
        long pastTheEnd = (long) FRAMES * TestPool.FRAME_SIZE + HEADROOM;
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(pastTheEnd, 60));
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(-HEADROOM, 60));
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(Long.MIN_VALUE + HEADROOM, 60));
        long free = a + TestPool.FRAME_SIZE;
        assertEquals(UmemFramePool.NOT_RECEIVED, pool.takeReceived(free + HEADROOM, 60), "a free frame");
        assertFrames(FRAMES - 1, 1, 0);
    }
}
