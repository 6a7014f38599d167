package org.nettyxdp.buffer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nettyxdp.buffer.RxDescriptor.BAD_PACKET;
import static org.nettyxdp.buffer.RxDescriptor.NOT_A_FRAME;
import static org.nettyxdp.buffer.RxDescriptor.VALID;

class RxDescriptorTest {
    private static final int FRAME = 2048;
    private static final long UMEM = 64L * FRAME;

    @Test
    void acceptsAPacketAfterTheKernelHeadroomOfAnyFrame() {
        assertEquals(VALID, RxDescriptor.check(256, 60, UMEM, FRAME));
        assertEquals(VALID, RxDescriptor.check(5 * FRAME + 256, 1514, UMEM, FRAME));
        assertEquals(VALID, RxDescriptor.check(63 * FRAME + 256 + 128, 1, UMEM, FRAME), "extra UMEM headroom");
        assertEquals(VALID, RxDescriptor.check(63 * FRAME + 256, FRAME - 256, UMEM, FRAME), "a full frame");
        assertEquals(VALID, RxDescriptor.check(3 * 4096 + 256, 4096 - 256, 16 * 4096, 4096));
    }

    @Test
    void anAddressOutsideTheUmemIsNoFrame() {
        assertEquals(NOT_A_FRAME, RxDescriptor.check(UMEM, 60, UMEM, FRAME));
        assertEquals(NOT_A_FRAME, RxDescriptor.check(UMEM + 256, 60, UMEM, FRAME));
        assertEquals(NOT_A_FRAME, RxDescriptor.check(-1, 60, UMEM, FRAME));
        assertEquals(NOT_A_FRAME, RxDescriptor.check(Long.MIN_VALUE + 256, 60, UMEM, FRAME));
        assertEquals(NOT_A_FRAME, RxDescriptor.check(1L << 40, 60, UMEM, FRAME));
    }

    @Test
    void aPacketInsideTheKernelHeadroomIsBad() {
        assertEquals(BAD_PACKET, RxDescriptor.check(0, 60, UMEM, FRAME), "frame start");
        assertEquals(BAD_PACKET, RxDescriptor.check(7 * FRAME + 255, 60, UMEM, FRAME));
        assertEquals(BAD_PACKET, RxDescriptor.check(7 * FRAME + 1, 60, UMEM, FRAME), "not frame-aligned");
    }

    @Test
    void aLengthBeyondTheFrameOrZeroIsBad() {
        assertEquals(BAD_PACKET, RxDescriptor.check(256, FRAME - 255, UMEM, FRAME), "one byte past the frame");
        assertEquals(BAD_PACKET, RxDescriptor.check(63 * FRAME + 256, FRAME, UMEM, FRAME), "past the UMEM's end");
        assertEquals(BAD_PACKET, RxDescriptor.check(256, 0, UMEM, FRAME));
        assertEquals(BAD_PACKET, RxDescriptor.check(256, -1, UMEM, FRAME), "len is unsigned: 4 GiB - 1");
        assertEquals(BAD_PACKET, RxDescriptor.check(256, Integer.MIN_VALUE, UMEM, FRAME));
        assertEquals(BAD_PACKET, RxDescriptor.check(FRAME + 256, 4096, 16 * 4096, 4096), "4096-byte frames");
    }
}
