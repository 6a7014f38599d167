package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RX descriptors that fail validation, fed to a real fast path's UMEM: each is counted as an
 * {@link DropReason#INVALID_DESCRIPTOR} drop, a frame the kernel had is returned to the pool, and no
 * frame is ever freed twice (the accounting stays balanced and the free count never exceeds the total).
 */
class InvalidDescriptorTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int FRAME = 2048;
    private static final int FRAMES = 256;

    @Test
    void invalidDescriptorsAreDroppedCountedAndTheirFramesReturnedOnce() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        LinkInfo link = pair.hostLink();
        XdpFastPath fp = XdpFastPath.open(link, new InetSocketAddress(pair.hostV4(), 40000), pair.hostV4(),
                TestSettings.generic(FRAME, FRAMES, RxChecksumPolicy.VERIFY_UNLESS_PARTIAL));
        try {
            FrameAccounting start = fp.accounting()[0];
            assertTrue(start.balanced(), start.toString());
            int inKernel = start.kernelRx();
            assertTrue(inKernel > 0 && start.free() > 0, start.toString());

            // outside the UMEM: counted, nothing moves
            assertFalse(fp.takeDescriptorForTest(0, (long) FRAMES * FRAME + 256, 60));
            assertFalse(fp.takeDescriptorForTest(0, -256, 60));
            assertEquals(start, fp.accounting()[0]);
            assertEquals(2, fp.counters().drops(DropReason.INVALID_DESCRIPTOR));

            // every frame of the UMEM, named by a descriptor whose packet lies in the kernel headroom, then
            // one whose length runs past the frame: exactly the frames the kernel had come back, once
            for (int f = 0; f < FRAMES; f++) {
                assertFalse(fp.takeDescriptorForTest(0, (long) f * FRAME + 1, 60));
                assertFalse(fp.takeDescriptorForTest(0, (long) f * FRAME + 256, FRAME));
            }
            FrameAccounting after = fp.accounting()[0];
            assertTrue(after.balanced(), after.toString());
            assertEquals(0, after.kernelRx(), after.toString());
            assertEquals(start.free() + inKernel, after.free(), "each kernel frame returned once: " + after);
            assertEquals(2 + 2 * FRAMES, fp.counters().drops(DropReason.INVALID_DESCRIPTOR));

            // a well-formed descriptor for a frame the kernel no longer has: counted, not freed again
            assertFalse(fp.takeDescriptorForTest(0, 256, 60));
            assertEquals(after, fp.accounting()[0]);
            assertEquals(3 + 2 * FRAMES, fp.counters().drops(DropReason.INVALID_DESCRIPTOR));
        } finally {
            fp.close();
        }
    }

    @Test
    void aValidDescriptorOfAFrameTheKernelHasIsTakenOnce() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        LinkInfo link = pair.hostLink();
        XdpFastPath fp = XdpFastPath.open(link, new InetSocketAddress(pair.hostV4(), 40001), pair.hostV4(),
                TestSettings.generic(FRAME, FRAMES, RxChecksumPolicy.VERIFY_UNLESS_PARTIAL));
        try {
            int taken = 0;
            long twice = -1;
            for (int f = 0; f < FRAMES; f++) {
                if (fp.takeDescriptorForTest(0, (long) f * FRAME + 256, 60)) {
                    taken++;
                    twice = (long) f * FRAME + 256;
                }
            }
            FrameAccounting a = fp.accounting()[0];
            assertTrue(taken > 0);
            assertEquals(0, a.kernelRx(), a.toString());
            assertEquals(FRAMES, a.free(), a.toString());
            assertEquals(FRAMES - taken, fp.counters().drops(DropReason.INVALID_DESCRIPTOR));
            assertFalse(fp.takeDescriptorForTest(0, twice, 60), "the same frame a second time");
            assertEquals(a, fp.accounting()[0]);
        } finally {
            fp.close();
        }
    }
}
