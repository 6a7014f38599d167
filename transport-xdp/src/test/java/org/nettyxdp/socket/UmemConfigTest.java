package org.nettyxdp.socket;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UMEM headroom limit is the kernel's ({@code xdp_umem_reg}, Linux 6.18): a larger headroom fails
 * at configuration with a message naming the option and the limit, not with a bare {@code EINVAL} at
 * {@code XDP_UMEM_REG}. That the kernel takes the limit itself is {@code MultiBufferTest}'s
 * jumbo echo with the largest headroom (a real UMEM registration).
 */
class UmemConfigTest {
    @Test
    void largestHeadroomIsTheKernels() {
        assertEquals(1344, UmemConfig.maxHeadroom(2048));
        assertEquals(3392, UmemConfig.maxHeadroom(4096));
        assertEquals(1344, UmemConfig.DEFAULT.withHeadroom(1344).headroom());
        assertEquals(3392, UmemConfig.DEFAULT.withFrameSize(4096).withHeadroom(3392).headroom());
    }

    @Test
    void largerHeadroomFailsNamingTheOptionAndTheLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UmemConfig.DEFAULT.withHeadroom(1345));
        assertTrue(e.getMessage().contains("XdpChannelOption.UMEM_HEADROOM"), e.getMessage());
        assertTrue(e.getMessage().contains("[0, 1344]"), e.getMessage());
        assertTrue(e.getMessage().contains("2048-byte frames"), e.getMessage());
        // the limit the configuration accepted before (the frame less XDP_PACKET_HEADROOM and 128 bytes)
        assertThrows(IllegalArgumentException.class, () -> UmemConfig.DEFAULT.withHeadroom(1664));
        assertThrows(IllegalArgumentException.class, () -> UmemConfig.DEFAULT.withHeadroom(-1));
    }
}
