package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.PacketException.Kind;

/** Descriptor mapping both ways, descriptor options, and TX metadata. */
class XdpPacketDescriptorTest {

    private static final int ALL_OFFLOADS = XdpPacket.TX_OFFLOAD_CHECKSUM | XdpPacket.TX_OFFLOAD_TIMESTAMP;

    private final TestUmem frames = new TestUmem(TestUmem.SMALL, 4);
    private final MemorySegment ring = frames.scratch(4 * XdpPacket.DESC_SIZE);

    @AfterEach
    void close() {
        frames.close();
    }

    @Test
    void descriptorIsUmemOffsetOfTheHeadAndTheLength() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL).reset(frames.frame(2), 20, 60, 0);
        assertEquals(2 * 2048 + 256 + 20, packet.addr());
        assertEquals(40, packet.len());

        packet.writeDescriptor(ring, XdpPacket.DESC_SIZE);

        assertEquals(2 * 2048 + 256 + 20, ring.get(ValueLayout.JAVA_LONG_UNALIGNED, 16));
        assertEquals(40, ring.get(ValueLayout.JAVA_INT_UNALIGNED, 24));
        assertEquals(0, ring.get(ValueLayout.JAVA_INT_UNALIGNED, 28));
    }

    @Test
    void descriptorFollowsHeadAdjustments() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL).reset(frames.frame(1), 64, 64, 0);
        packet.append(new byte[100]);
        packet.adjustHead(-42);
        assertEquals(2048 + 256 + 22, packet.addr());
        assertEquals(142, packet.len());
    }

    @Test
    void rxDescriptorRoundTrip() {
        XdpPacket tx = new XdpPacket(frames.umem, TestUmem.SMALL).reset(frames.frame(3), 0, 1792, XdpPacket.XDP_PKT_CONTD);
        tx.writeDescriptor(ring, 0);

        XdpPacket rx = new XdpPacket(frames.umem, TestUmem.SMALL).resetFromDescriptor(ring, 0);

        assertEquals(frames.frame(3), rx.frameAddr());
        assertEquals(0, rx.head());
        assertEquals(1792, rx.tail());
        assertEquals(0, rx.tailroom());
        assertTrue(rx.isContinued());
        assertEquals(tx.addr(), rx.addr());
    }

    @Test
    void rxDescriptorWithUmemHeadroom() {
        long addr = frames.frame(1) + XdpPacket.XDP_PACKET_HEADROOM + 32;
        XdpPacket rx = new XdpPacket(frames.umem, TestUmem.SMALL).resetFromDescriptor(addr, 60, 0);
        assertEquals(frames.frame(1), rx.frameAddr());
        assertEquals(32, rx.head());
        assertEquals(92, rx.tail());
        rx.adjustHead(-32);
        assertEquals(frames.frame(1) + XdpPacket.XDP_PACKET_HEADROOM, rx.addr());
    }

    @Test
    void rxDescriptorMustDescribeAPacketInAFrame() {
        XdpPacket rx = new XdpPacket(frames.umem, TestUmem.SMALL);
        long frame = frames.frame(1);
        assertThrows(IllegalArgumentException.class, () -> rx.resetFromDescriptor(frame + 255, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> rx.resetFromDescriptor(frame + 256, 1793, 0));
        assertThrows(IllegalArgumentException.class, () -> rx.resetFromDescriptor(frame + 256, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> rx.resetFromDescriptor(frames.frame(4) + 256, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> rx.resetFromDescriptor(-1, 10, 0));
        rx.resetFromDescriptor(frame + 256, 1792, 0);
        assertEquals(1792, rx.len());
    }

    @Test
    void rxDescriptorNeedsAlignedMode() {
        XdpPacket packet = new XdpPacket(frames.umem, 3000);
        assertThrows(IllegalStateException.class, () -> packet.resetFromDescriptor(256, 10, 0));
        packet.reset(3000, 0, 10, 0);
        assertEquals(3000 + 256, packet.addr());
    }

    @Test
    void continuedFlagRoundTripsThroughTheDescriptor() {
        XdpPacket packet = frames.packet(0, 0);
        assertFalse(packet.isContinued());
        packet.setContinued(true);
        assertTrue(packet.isContinued());
        packet.writeDescriptor(ring, 0);
        assertEquals(XdpPacket.XDP_PKT_CONTD, ring.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        packet.setContinued(false);
        assertEquals(0, packet.options());
    }

    /** Capabilities are kept apart from the options, so nothing internal can reach the kernel. */
    @Test
    void offloadCapabilitiesNeverReachTheDescriptor() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(0, 0, 10, 0);
        assertTrue(packet.canOffloadChecksum());
        assertTrue(packet.canRequestTimestamp());
        assertEquals(0, packet.options());
        packet.writeDescriptor(ring, 0);
        assertEquals(0, ring.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        packet.reset(frames.frame(1), 0, 0, 0);
        assertTrue(packet.canOffloadChecksum(), "capabilities survive reset");
    }

    @Test
    void noOffloadsByDefault() {
        XdpPacket packet = frames.packet(0, 0);
        assertFalse(packet.canOffloadChecksum());
        assertFalse(packet.canRequestTimestamp());
    }

    @Test
    void unsupportedOffloadsAreRefused() {
        XdpPacket none = frames.packet(0, 30);
        assertEquals(Kind.CHECKSUM_UNSUPPORTED,
                assertThrows(PacketException.class, () -> none.setTxMetadata(34, 6, false)).kind());
        assertEquals(Kind.TIMESTAMP_UNSUPPORTED,
                assertThrows(PacketException.class, () -> none.setTxMetadata(XdpPacket.NO_CHECKSUM, 0, true)).kind());

        XdpPacket checksumOnly = new XdpPacket(frames.umem, TestUmem.SMALL, XdpPacket.TX_OFFLOAD_CHECKSUM).reset(0, 30, 30, 0);
        assertEquals(Kind.TIMESTAMP_UNSUPPORTED,
                assertThrows(PacketException.class, () -> checksumOnly.setTxMetadata(34, 6, true)).kind());
        checksumOnly.setTxMetadata(34, 6, false);

        XdpPacket timestampOnly = new XdpPacket(frames.umem, TestUmem.SMALL, XdpPacket.TX_OFFLOAD_TIMESTAMP).reset(0, 30, 30, 0);
        assertEquals(Kind.CHECKSUM_UNSUPPORTED,
                assertThrows(PacketException.class, () -> timestampOnly.setTxMetadata(34, 6, true)).kind());
        timestampOnly.setTxMetadata(XdpPacket.NO_CHECKSUM, 0, true);
        assertEquals(XdpPacket.XDP_TX_METADATA, timestampOnly.options());
        assertEquals(0, none.options(), "a refused request leaves the options alone");
    }

    @Test
    void txMetadataSitsJustBelowTheHead() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(frames.frame(1), 40, 40, 0);
        packet.append(new byte[64]);
        long meta = packet.addr() - XdpPacket.TX_METADATA_LEN;
        frames.umem.asSlice(meta, XdpPacket.TX_METADATA_LEN).fill((byte) 0xAA);

        packet.setTxMetadata(34, 6, true);

        assertEquals(XdpPacket.TXMD_FLAGS_CHECKSUM | XdpPacket.TXMD_FLAGS_TIMESTAMP,
                frames.umem.get(ValueLayout.JAVA_LONG_UNALIGNED, meta));
        assertEquals(3L, frames.umem.get(ValueLayout.JAVA_LONG_UNALIGNED, meta));
        assertEquals(34, frames.umem.get(ValueLayout.JAVA_SHORT_UNALIGNED, meta + 8));
        assertEquals(6, frames.umem.get(ValueLayout.JAVA_SHORT_UNALIGNED, meta + 10));
        assertEquals(0, frames.umem.get(ValueLayout.JAVA_INT_UNALIGNED, meta + 12));
        assertEquals(0L, frames.umem.get(ValueLayout.JAVA_LONG_UNALIGNED, meta + 16));
        assertEquals(XdpPacket.XDP_TX_METADATA, packet.options());

        packet.writeDescriptor(ring, 0);
        assertEquals(XdpPacket.XDP_TX_METADATA, ring.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        assertEquals(packet.addr(), ring.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
    }

    @Test
    void timestampOnlyMetadata() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(0, 24, 24, 0);
        frames.umem.asSlice(0, 512).fill((byte) 0xAA);
        packet.setTxMetadata(XdpPacket.NO_CHECKSUM, 99, true);
        long meta = packet.addr() - XdpPacket.TX_METADATA_LEN;
        assertEquals(XdpPacket.TXMD_FLAGS_TIMESTAMP, frames.umem.get(ValueLayout.JAVA_LONG_UNALIGNED, meta));
        assertEquals(0L, frames.umem.get(ValueLayout.JAVA_LONG_UNALIGNED, meta + 8));
        assertEquals((byte) 0xAA, frames.umem.get(ValueLayout.JAVA_BYTE, meta - 1), "nothing below the struct");
    }

    /** With no headroom the struct lands in the kernel headroom of the same frame, never the previous frame. */
    @Test
    void txMetadataWithoutHeadroomStaysInTheFrame() {
        frames.umem.fill((byte) 0x55);
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(frames.frame(1), 0, 0, 0);
        packet.setTxMetadata(14 + 20, 6, false);
        assertEquals(frames.frame(1) + 256 - 24, packet.addr() - XdpPacket.TX_METADATA_LEN);
        MemorySegment previous = frames.umem.asSlice(frames.frame(0), TestUmem.SMALL);
        assertEquals(-1, previous.mismatch(MemorySegment.ofArray(org.nettyxdp.testing.Frames.filled(TestUmem.SMALL, 0x55))));
    }

    @Test
    void requestingNothingClearsTheOption() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(0, 24, 24, 0);
        packet.setTxMetadata(0, 0, false);
        assertEquals(XdpPacket.XDP_TX_METADATA, packet.options());
        packet.setContinued(true);
        packet.setTxMetadata(XdpPacket.NO_CHECKSUM, 0, false);
        assertEquals(XdpPacket.XDP_PKT_CONTD, packet.options());
    }

    @Test
    void checksumRequestFieldsMustBeU16() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL, ALL_OFFLOADS).reset(0, 24, 24, 0);
        assertThrows(IllegalArgumentException.class, () -> packet.setTxMetadata(65536, 6, false));
        assertThrows(IllegalArgumentException.class, () -> packet.setTxMetadata(34, -2, false));
        assertThrows(IllegalArgumentException.class, () -> packet.setTxMetadata(-2, 6, false));
        packet.setTxMetadata(65535, 65535, false);
        long meta = packet.addr() - XdpPacket.TX_METADATA_LEN;
        assertEquals((short) 0xFFFF, frames.umem.get(ValueLayout.JAVA_SHORT_UNALIGNED, meta + 8));
    }
}
