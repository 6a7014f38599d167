package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.filled;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nettyxdp.packet.PacketException.Kind;

/** Every boundary of head, tail, offsets and sizes, and the decisions where the seed's arithmetic was off. */
class XdpPacketBoundsTest {

    private static final int CAPACITY = TestUmem.SMALL - XdpPacket.XDP_PACKET_HEADROOM;

    private final TestUmem frames = new TestUmem(TestUmem.SMALL, 3);

    @AfterEach
    void close() {
        frames.close();
    }

    /** A packet in frame 1 with {@code headroom} bytes below {@code length} bytes of 0, 1, 2, ... */
    private XdpPacket packet(int headroom, int length) {
        XdpPacket packet = frames.packet(1, headroom);
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) i;
        }
        packet.append(bytes);
        return packet;
    }

    private static PacketException fails(Kind kind, Executable call) {
        PacketException e = assertThrows(PacketException.class, call);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    private static void assertState(XdpPacket packet, int head, int tail) {
        assertEquals(head, packet.head(), "head");
        assertEquals(tail, packet.tail(), "tail");
    }

    // adjustHead

    @Test
    void adjustHeadByZeroChangesNothing() {
        XdpPacket packet = packet(20, 10);
        packet.adjustHead(0);
        assertState(packet, 20, 30);
    }

    @Test
    void adjustHeadUpToTheTailEmptiesThePacket() {
        XdpPacket packet = packet(20, 10);
        packet.adjustHead(10);
        assertState(packet, 30, 30);
        assertTrue(packet.isEmpty());
    }

    @Test
    void adjustHeadPastTheTailIsInvalidLength() {
        XdpPacket packet = packet(20, 10);
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustHead(11));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustHead(Integer.MAX_VALUE));
        assertState(packet, 20, 30);
    }

    @Test
    void adjustHeadDownUsesExactlyTheHeadroom() {
        XdpPacket packet = packet(20, 10);
        packet.adjustHead(-20);
        assertState(packet, 0, 30);
    }

    @Test
    void adjustHeadDownPastTheHeadroomReportsDiffAndHead() {
        XdpPacket packet = packet(20, 10);
        PacketException e = fails(Kind.INSUFFICIENT_HEADROOM, () -> packet.adjustHead(-21));
        assertEquals(21, e.diff());
        assertEquals(20, e.head());
        assertState(packet, 20, 30);
    }

    @Test
    void adjustHeadWithNoHeadroom() {
        XdpPacket packet = packet(0, 10);
        PacketException e = fails(Kind.INSUFFICIENT_HEADROOM, () -> packet.adjustHead(-1));
        assertEquals(1, e.diff());
        assertEquals(0, e.head());
    }

    @Test
    void adjustHeadByMinValueDoesNotOverflow() {
        XdpPacket packet = packet(20, 10);
        PacketException e = fails(Kind.INSUFFICIENT_HEADROOM, () -> packet.adjustHead(Integer.MIN_VALUE));
        assertEquals(2147483648L, e.diff());
        assertState(packet, 20, 30);
    }

    // adjustTail

    @Test
    void adjustTailByZeroChangesNothing() {
        XdpPacket packet = packet(20, 10);
        packet.adjustTail(0);
        assertState(packet, 20, 30);
    }

    @Test
    void adjustTailUpToFullCapacity() {
        XdpPacket packet = packet(20, 10);
        packet.adjustTail(packet.tailroom());
        assertState(packet, 20, CAPACITY);
        assertEquals(0, packet.tailroom());
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(1));
        assertState(packet, 20, CAPACITY);
    }

    @Test
    void adjustTailPastCapacityIsInvalidLength() {
        XdpPacket packet = packet(20, 10);
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(CAPACITY - 30 + 1));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(Integer.MAX_VALUE));
        assertState(packet, 20, 30);
    }

    @Test
    void adjustTailDownToTheHeadEmptiesThePacket() {
        XdpPacket packet = packet(20, 10);
        packet.adjustTail(-10);
        assertState(packet, 20, 20);
    }

    /** Decision: the seed says "insufficient headroom" here; the tail passing the head is an invalid length. */
    @Test
    void adjustTailBelowTheHeadIsInvalidLengthNotInsufficientHeadroom() {
        XdpPacket packet = packet(20, 10);
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(-11));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(-30));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(-31));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(Integer.MIN_VALUE));
        assertState(packet, 20, 30);
    }

    // read / write / arrayAtOffset / sliceAtOffset

    @Test
    void emptyRangeAtTheEndIsFine() {
        XdpPacket packet = packet(20, 10);
        assertEquals(0, packet.sliceAtOffset(10, 0).byteSize());
        packet.arrayAtOffset(10, new byte[0]);
    }

    @Test
    void rangeOfExactlyTheRemainingBytes() {
        XdpPacket packet = packet(20, 10);
        byte[] bytes = new byte[7];
        packet.arrayAtOffset(3, bytes);
        assertArrayEquals(new byte[] {3, 4, 5, 6, 7, 8, 9}, bytes);
        assertEquals(7, packet.sliceAtOffset(3, 7).byteSize());
    }

    @Test
    void oneByteTooManyIsInsufficientData() {
        XdpPacket packet = packet(20, 10);
        PacketException e = fails(Kind.INSUFFICIENT_DATA, () -> packet.arrayAtOffset(3, new byte[8]));
        assertEquals(3, e.offset());
        assertEquals(8, e.size());
        assertEquals(10, e.length());
        fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(3, 8));
        fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(10, 1));
    }

    /**
     * Decision: {@code length} is the packet length. The seed computed {@code tail - offset}, mixing
     * frame and packet coordinates (105 here), which underflows once the offset passes the tail.
     */
    @Test
    void insufficientDataReportsThePacketLength() {
        XdpPacket packet = packet(100, 10);
        PacketException e = fails(Kind.INSUFFICIENT_DATA, () -> packet.read(5, new UdpHdr()));
        assertEquals(5, e.offset());
        assertEquals(UdpHdr.LEN, e.size());
        assertEquals(10, e.length());
        assertEquals("insufficient data: 8 bytes at offset 5 exceed packet length 10", e.getMessage());
    }

    /** Decision: an offset past the length is an invalid offset for every accessor (the seed's array/slice said insufficient data). */
    @Test
    void offsetPastTheLengthIsInvalidOffsetEverywhere() {
        XdpPacket packet = packet(20, 10);
        for (Executable call : new Executable[] {
            () -> packet.arrayAtOffset(11, new byte[0]),
            () -> packet.sliceAtOffset(11, 0),
            () -> packet.read(11, new UdpHdr()),
            () -> packet.write(11, packet.read(0, new UdpHdr())),
            () -> packet.insert(11, new byte[0]),
        }) {
            PacketException e = fails(Kind.INVALID_OFFSET, call);
            assertEquals(11, e.offset());
            assertEquals(10, e.length());
            assertEquals(-1, e.size());
        }
    }

    @Test
    void negativeOffsetsAndSizesAreRejected() {
        XdpPacket packet = packet(20, 10);
        fails(Kind.INVALID_OFFSET, () -> packet.sliceAtOffset(-1, 1));
        fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(0, -1));
        fails(Kind.INVALID_OFFSET, () -> packet.insert(-1, new byte[1]));
    }

    @Test
    void sanityLimitRejectsHugeOffsetsAndSizes() {
        try (TestUmem pages = new TestUmem(TestUmem.PAGE, 1)) {
            XdpPacket packet = pages.packet(0, 0);
            packet.adjustTail(packet.capacity());
            fails(Kind.INVALID_OFFSET, () -> packet.sliceAtOffset(XdpPacket.SANITY_LIMIT, 0));
            fails(Kind.INVALID_OFFSET, () -> packet.sliceAtOffset(Integer.MAX_VALUE, 0));
            fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(0, XdpPacket.SANITY_LIMIT));
            fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(0, Integer.MAX_VALUE));
            fails(Kind.INVALID_PACKET_LENGTH, () -> packet.insert(0, new byte[XdpPacket.SANITY_LIMIT + 1]));
            fails(Kind.INVALID_PACKET_LENGTH, () -> packet.append(new byte[XdpPacket.SANITY_LIMIT + 1]));
        }
    }

    @Test
    void fullCapacityPageFrameIsAddressableToTheLastByte() {
        try (TestUmem pages = new TestUmem(TestUmem.PAGE, 1)) {
            XdpPacket packet = pages.packet(0, 0);
            packet.adjustTail(packet.capacity());
            assertEquals(3840, packet.len());
            assertEquals(1, packet.sliceAtOffset(3839, 1).byteSize());
            assertEquals(0, packet.sliceAtOffset(3840, 0).byteSize());
            fails(Kind.INSUFFICIENT_DATA, () -> packet.sliceAtOffset(3839, 2));
            fails(Kind.INVALID_OFFSET, () -> packet.sliceAtOffset(3841, 0));
        }
    }

    @Test
    void headerAtTheVeryEnd() {
        XdpPacket packet = packet(20, 22);
        assertEquals(14, packet.read(14, new UdpHdr()).offset() - packet.addr());
        PacketException e = fails(Kind.INSUFFICIENT_DATA, () -> packet.read(15, new UdpHdr()));
        assertEquals(8, e.size());
    }

    @Test
    void taggedEthernetNeedsAllEighteenBytes() {
        XdpPacket packet = packet(0, 17);
        MemorySegment umem = packet.umem();
        umem.set(NetworkOrder.U16, packet.addr() + 12, (short) EtherType.VLAN);
        PacketException e = fails(Kind.INSUFFICIENT_DATA, () -> packet.read(0, new EthHdr()));
        assertEquals(EthHdr.TAGGED_LEN, e.size());
        packet.adjustTail(1);
        assertEquals(EthHdr.TAGGED_LEN, packet.read(0, new EthHdr()).size());
    }

    @Test
    void writeOfOneByteTooManyLeavesThePacketAlone() {
        XdpPacket packet = packet(20, 13);
        MemorySegment template = frames.scratch(EthHdr.LEN);
        EthHdr eth = new EthHdr();
        eth.wrap(template, 0);
        fails(Kind.INSUFFICIENT_DATA, () -> packet.write(0, eth));
        packet.adjustTail(1);
        packet.write(0, eth);
        assertArrayEquals(new byte[EthHdr.LEN], packet.sliceAtOffset(0, EthHdr.LEN).toArray(ValueLayout.JAVA_BYTE));
    }

    // insert / append

    @Test
    void insertAtTheLengthAppends() {
        XdpPacket packet = packet(20, 3);
        packet.insert(3, new byte[] {9, 9});
        assertArrayEquals(new byte[] {0, 1, 2, 9, 9}, packet.sliceAtOffset(0, 5).toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * Decision: only the {@code len - offset} bytes after the offset move, and the offset is checked
     * against the length. The seed moved {@code tail - offset} bytes (head bytes too many) and
     * accepted offsets up to the tail, writing past the packet whenever there is headroom.
     */
    @Test
    void insertWithHeadroomMovesOnlyThePacketBytes() {
        XdpPacket packet = packet(100, 10);
        MemorySegment umem = packet.umem();
        long tailroom = packet.addr() + packet.len();
        umem.asSlice(tailroom, packet.tailroom()).fill((byte) 0x77);

        packet.insert(2, new byte[] {-1, -2, -3, -4});

        assertEquals(14, packet.len());
        assertArrayEquals(new byte[] {0, 1, -1, -2, -3, -4, 2, 3, 4, 5, 6, 7, 8, 9},
                packet.sliceAtOffset(0, 14).toArray(ValueLayout.JAVA_BYTE));
        MemorySegment above = umem.asSlice(packet.addr() + 14, packet.tailroom());
        assertEquals(-1, above.mismatch(MemorySegment.ofArray(filled((int) above.byteSize(), 0x77))));
        fails(Kind.INVALID_OFFSET, () -> packet.insert(15, new byte[1]));
        fails(Kind.INVALID_OFFSET, () -> packet.insert(packet.tail(), new byte[1]));
    }

    @Test
    void insertUpToFullCapacity() {
        XdpPacket packet = packet(20, 10);
        int room = packet.tailroom();
        packet.insert(5, new byte[room]);
        assertEquals(CAPACITY, packet.tail());
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.insert(0, new byte[1]));
        packet.insert(0, new byte[0]);
        assertEquals(CAPACITY, packet.tail());
    }

    /** The seed checks the size before the offset: too big and misplaced reports the size. */
    @Test
    void insertChecksSizeBeforeOffset() {
        XdpPacket packet = packet(20, 10);
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.insert(11, new byte[packet.tailroom() + 1]));
    }

    @Test
    void appendUpToFullCapacity() {
        XdpPacket packet = packet(0, 0);
        packet.append(new byte[CAPACITY - 1]);
        packet.append(MemorySegment.ofArray(new byte[] {42}));
        assertEquals(CAPACITY, packet.len());
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.append(new byte[1]));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.append(MemorySegment.ofArray(new byte[1])));
        packet.append(new byte[0]);
        assertEquals(42, packet.sliceAtOffset(CAPACITY - 1, 1).get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void aFullFrameNeverSpillsIntoItsNeighbours() {
        MemorySegment umem = frames.umem;
        umem.fill((byte) 0x55);
        XdpPacket packet = frames.packet(1, 0);
        packet.append(filled(CAPACITY, 0xAA));
        packet.insert(0, new byte[0]);
        packet.adjustHead(100);
        packet.adjustTail(-100);
        packet.insert(0, filled(100, 0xBB));
        assertEquals(CAPACITY, packet.tail());
        packet.adjustHead(-100);
        assertEquals(0, packet.head());
        MemorySegment neighbours = MemorySegment.ofArray(filled(TestUmem.SMALL, 0x55));
        assertEquals(-1, umem.asSlice(frames.frame(0), TestUmem.SMALL).mismatch(neighbours));
        assertEquals(-1, umem.asSlice(frames.frame(2), TestUmem.SMALL).mismatch(neighbours));
    }

    // construction and reset

    @Test
    void unpointedPacketHoldsNothing() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL);
        assertEquals(0, packet.capacity());
        assertEquals(0, packet.len());
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.append(new byte[1]));
        fails(Kind.INVALID_PACKET_LENGTH, () -> packet.adjustTail(1));
        assertThrows(IllegalStateException.class, () -> packet.setTxMetadata(XdpPacket.NO_CHECKSUM, 0, false));
    }

    @Test
    void resetRejectsFramesOutsideTheUmemAndBadHeadTail() {
        XdpPacket packet = new XdpPacket(frames.umem, TestUmem.SMALL);
        assertThrows(IllegalArgumentException.class, () -> packet.reset(-1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> packet.reset(frames.frame(2) + 1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> packet.reset(frames.frame(3), 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> packet.reset(0, -1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> packet.reset(0, 5, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> packet.reset(0, 0, CAPACITY + 1, 0));
        packet.reset(frames.frame(2), CAPACITY, CAPACITY, 0);
        assertEquals(0, packet.tailroom());
    }

    @Test
    void resetRePointsWithoutCarryingState() {
        XdpPacket packet = packet(20, 10);
        packet.reset(frames.frame(0), 5, 7, XdpPacket.XDP_PKT_CONTD);
        assertEquals(frames.frame(0), packet.frameAddr());
        assertState(packet, 5, 7);
        assertTrue(packet.isContinued());
        packet.reset(frames.frame(2), 0, 0, 0);
        assertState(packet, 0, 0);
        assertEquals(0, packet.options());
    }

    @Test
    void constructorValidatesGeometry() {
        assertThrows(IllegalArgumentException.class, () -> new XdpPacket(frames.umem, 1024));
        assertThrows(IllegalArgumentException.class, () -> new XdpPacket(frames.umem, 8192));
        assertThrows(IllegalArgumentException.class, () -> new XdpPacket(frames.umem.asSlice(0, 100), 2048));
        assertThrows(IllegalArgumentException.class, () -> new XdpPacket(frames.umem, 2048, 4));
    }
}
