package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.filled;
import static org.nettyxdp.testing.Frames.ipv4Address;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.Checksum.UdpStatus;

/** Checksums against fixed vectors and a deliberately naive reference implementation. */
class ChecksumTest {

    private static final byte[] IPV6_SOURCE = HexFormat.of().parseHex("20010db8000000000000000000000001");
    private static final byte[] IPV6_DESTINATION = HexFormat.of().parseHex("20010db8000000000000000000000002");

    private final TestUmem frames = new TestUmem(TestUmem.PAGE, 2);
    private final Random random = new Random(0x5EED);

    @AfterEach
    void close() {
        frames.close();
    }

    /** RFC 1071 the slow way: one 16-bit word at a time, folding at the end. */
    private static int referenceSum(byte[] data) {
        long sum = 0;
        for (int i = 0; i < data.length; i += 2) {
            int high = data[i] & 0xFF;
            int low = i + 1 < data.length ? data[i + 1] & 0xFF : 0;
            sum += high << 8 | low;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static int referenceChecksum(byte[] data) {
        return ~referenceSum(data) & 0xFFFF;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] u16(int value) {
        return new byte[] {(byte) (value >>> 8), (byte) value};
    }

    private static byte[] u32(int value) {
        return concat(u16(value >>> 16), u16(value));
    }

    private MemorySegment segmentOf(byte[] bytes, int misalignment) {
        MemorySegment segment = frames.scratch(bytes.length + misalignment + 8).asSlice(misalignment);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    // raw sums

    @Test
    void matchesTheReferenceForEveryLengthAndAlignment() {
        for (int length = 0; length <= 1600; length++) {
            byte[] data = new byte[length];
            random.nextBytes(data);
            int misalignment = length % 8;
            MemorySegment segment = segmentOf(data, misalignment);
            assertEquals(referenceSum(data), Checksum.sum(segment, 0, length), "length " + length);
        }
    }

    @Test
    void matchesTheReferenceWhenTheSegmentEndsWithTheData() {
        // No slack after the last byte: the tail cannot be one masked 8-byte load.
        for (int length = 0; length <= 40; length++) {
            for (int misalignment = 0; misalignment < 8; misalignment++) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                MemorySegment exact = segmentOf(data, misalignment).asSlice(0, length);
                assertEquals(referenceSum(data), Checksum.sum(exact, 0, length), "length " + length);
                MemorySegment prefixed = frames.scratch(length + 3L).asSlice(misalignment % 4);
                MemorySegment.copy(data, 0, prefixed, ValueLayout.JAVA_BYTE, prefixed.byteSize() - length, length);
                assertEquals(referenceSum(data), Checksum.sum(prefixed, prefixed.byteSize() - length, length),
                        "length " + length + " at the end");
            }
        }
    }

    @Test
    void zeroLength() {
        MemorySegment segment = frames.scratch(8);
        assertEquals(0, Checksum.sum(segment, 0, 0));
        assertEquals(0xFFFF, Checksum.finish(Checksum.sum(segment, 8, 0)));
    }

    @Test
    void oddLengthsPadTheLastByteLow() {
        MemorySegment segment = segmentOf(new byte[] {0x12, 0x34, 0x56}, 3);
        assertEquals(0x1234 + 0x5600, Checksum.sum(segment, 0, 3));
        assertEquals(0xAB00, Checksum.sum(segmentOf(new byte[] {(byte) 0xAB}, 1), 0, 1));
    }

    @Test
    void allOnes() {
        for (int length : new int[] {1, 2, 3, 7, 8, 9, 64, 1471, 1472, 65536}) {
            byte[] data = filled(length, 0xFF);
            MemorySegment segment = segmentOf(data, 1);
            int expected = length % 2 == 0 ? 0xFFFF : 0xFF00;
            assertEquals(expected, Checksum.sum(segment, 0, length), "length " + length);
            assertEquals(referenceSum(data), Checksum.sum(segment, 0, length), "length " + length);
        }
    }

    @Test
    void largeBuffersDoNotOverflowTheAccumulator() {
        MemorySegment segment = frames.arena.allocate(1 << 20);
        segment.fill((byte) 0xFF);
        assertEquals(0xFFFF, Checksum.sum(segment, 0, segment.byteSize()));
    }

    @Test
    void sumsInEvenPiecesAddUp() {
        byte[] data = new byte[999];
        random.nextBytes(data);
        MemorySegment segment = segmentOf(data, 5);
        int pieces = Checksum.add(Checksum.add(Checksum.sum(segment, 0, 10), Checksum.sum(segment, 10, 500)),
                Checksum.sum(segment, 510, 489));
        assertEquals(Checksum.sum(segment, 0, 999), pieces);
    }

    @Test
    void addAndFinish() {
        assertEquals(0x0002, Checksum.add(0xFFFF, 0x0002), "0xFFFF is the other zero");
        assertEquals(0x0001, Checksum.add(0x8000, 0x8000), "end-around carry");
        assertEquals(0xFFFF, Checksum.add(0xFFFF, 0));
        assertEquals(0, Checksum.finish(0xFFFF));
        assertEquals(0xB861, Checksum.finish(0x479E));
    }

    @Test
    void rejectsNegativeLengths() {
        MemorySegment segment = frames.scratch(8);
        assertThrows(IllegalArgumentException.class, () -> Checksum.sum(segment, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> Checksum.isValid(segment, 0, -4));
        assertThrows(IllegalArgumentException.class, () -> Checksum.sum(segment, 0, 1L << 31));
        assertThrows(IllegalArgumentException.class, () -> Checksum.ipv4Header(segment, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> Checksum.ipv4Header(segment, 0, 64));
    }

    // IPv4 header

    private static final byte[] IPV4_HEADER = HexFormat.of().parseHex("450000730000400040110000c0a80001c0a800c7");

    @Test
    void ipv4HeaderWellKnownVector() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 2);
        assertEquals(0xB861, Checksum.ipv4Header(segment, 0, 20));
        assertFalse(Checksum.isValid(segment, 0, 20));

        segment.set(NetworkOrder.U16, 10, (short) 0xB861);
        assertTrue(Checksum.isValid(segment, 0, 20));
        assertEquals(0xB861, Checksum.ipv4Header(segment, 0, 20), "the stored field is ignored");
    }

    @Test
    void ipv4HeaderSumOfWordsInRegistersMatchesTheVector() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 0);
        long first = segment.get(NetworkOrder.U64, 0);
        long second = segment.get(NetworkOrder.U64, 8);
        int last = segment.get(NetworkOrder.U32, 16);
        assertEquals(0xB861, Checksum.finish(Checksum.ipv4HeaderSum(first, second, last)), "checksum field zero");
        assertEquals(0xFFFF, Checksum.ipv4HeaderSum(first, second | 0xB861L << 32, last), "a valid header");
        assertFalse(Checksum.ipv4HeaderSum(first, second | 0xB862L << 32, last) == 0xFFFF, "a wrong field");
    }

    @Test
    void udpStatusFromSums() {
        int pseudo = Checksum.pseudoHeaderSum(ipv4Address(10, 0, 0, 1), ipv4Address(10, 0, 0, 2), 17, 12);
        // valid: the datagram's sum (field included) is the pseudo-header's complement; partial: the field
        // holds the pseudo-header sum alone and the data does not add up; anything else is invalid
        assertEquals(Checksum.UdpStatus.VALID, Checksum.udpStatus(pseudo, 0x1234, Checksum.finish(pseudo)));
        assertEquals(Checksum.UdpStatus.PARTIAL, Checksum.udpStatus(pseudo, pseudo, 0x0101));
        assertEquals(Checksum.UdpStatus.INVALID, Checksum.udpStatus(pseudo, pseudo ^ 1, 0x0101));
    }

    @Test
    void ipv4HeaderViewUpdatesAndValidates() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 0);
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(segment, 0);
        assertFalse(ip.isChecksumValid());
        ip.updateChecksum();
        assertEquals(0xB861, ip.checksum());
        assertTrue(ip.isChecksumValid());
        ip.setTtl(63);
        assertFalse(ip.isChecksumValid());
    }

    @Test
    void ipv4HeaderWithOptionsMatchesTheReference() {
        byte[] header = new byte[28];
        random.nextBytes(header);
        header[0] = 0x47;
        header[10] = 0;
        header[11] = 0;
        MemorySegment segment = segmentOf(header, 3);
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(segment, 0);
        ip.updateChecksum();
        assertEquals(referenceChecksum(header), ip.checksum());
        assertTrue(ip.isChecksumValid());
    }

    // UDP over IPv4

    /** Ethernet + IPv4 + UDP with {@code payload}, built in frame 0; returns the packet. */
    private XdpPacket udp4Frame(byte[] payload) {
        XdpPacket packet = frames.packet(0, 0);
        packet.adjustTail(42);
        EthHdr eth = packet.read(0, new EthHdr());
        eth.setEtherType(EtherType.IPV4);
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        ip.reset(64, IpProto.UDP);
        ip.setSource(ipv4Address(192, 168, 0, 1));
        ip.setDestination(ipv4Address(192, 168, 0, 199));
        ip.setTotalLength(28 + payload.length);
        UdpHdr udp = packet.read(34, new UdpHdr());
        udp.setSourcePort(12345);
        udp.setDestinationPort(53);
        udp.setLength(8 + payload.length);
        packet.append(payload);
        return packet;
    }

    private static byte[] udp4Reference(int source, int destination, byte[] udpBytes) {
        return concat(u32(source), u32(destination), new byte[] {0, 17}, u16(udpBytes.length), udpBytes);
    }

    @Test
    void udpOverIpv4FixedVector() {
        XdpPacket packet = udp4Frame("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        assertEquals(0x097B, Checksum.udp(ip, udp));
        assertEquals(UdpStatus.ABSENT, Checksum.verifyUdp(ip, udp));
        udp.setChecksum(Checksum.udp(ip, udp));
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
        assertEquals(0x097B, Checksum.udp(ip, udp), "the stored field is ignored");
    }

    @Test
    void udpOverIpv4MatchesTheReferenceForOddAndEvenPayloads() {
        for (int length : new int[] {0, 1, 2, 3, 63, 64, 65, 1471, 1472}) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            XdpPacket packet = udp4Frame(payload);
            Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
            UdpHdr udp = packet.read(34, new UdpHdr());
            byte[] udpBytes = packet.sliceAtOffset(34, 8 + length).toArray(ValueLayout.JAVA_BYTE);
            int expected = referenceChecksum(udp4Reference(ip.source(), ip.destination(), udpBytes));
            assertEquals(expected == 0 ? 0xFFFF : expected, Checksum.udp(ip, udp), "payload " + length);
        }
    }

    @Test
    void udpOverIpv4CorruptionIsInvalid() {
        XdpPacket packet = udp4Frame(filled(100, 7));
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        udp.setChecksum(Checksum.udp(ip, udp));
        packet.sliceAtOffset(80, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 8);
        assertEquals(UdpStatus.INVALID, Checksum.verifyUdp(ip, udp));
    }

    /** A computed checksum of 0 goes on the wire as 0xFFFF (0 would mean "none"), and verifies. */
    @Test
    void udpOverIpv4ZeroBecomesAllOnes() {
        XdpPacket packet = udp4Frame(new byte[16]);
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        byte[] udpBytes = packet.sliceAtOffset(34, 24).toArray(ValueLayout.JAVA_BYTE);
        int sum = referenceSum(udp4Reference(ip.source(), ip.destination(), udpBytes));
        packet.sliceAtOffset(40 + 16, 2).set(NetworkOrder.U16, 0, (short) (~sum & 0xFFFF));
        assertEquals(0xFFFF, referenceSum(udp4Reference(ip.source(), ip.destination(),
                packet.sliceAtOffset(34, 24).toArray(ValueLayout.JAVA_BYTE))), "the data now sums to 0xFFFF");

        assertEquals(0xFFFF, Checksum.udp(ip, udp));
        udp.setChecksum(0xFFFF);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
    }

    @Test
    void udpOverIpv4PartialIsThePseudoHeaderSum() {
        XdpPacket packet = udp4Frame("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        byte[] pseudo = concat(u32(ip.source()), u32(ip.destination()), new byte[] {0, 17}, u16(13));
        int partial = Checksum.udpPartial(ip, udp);
        assertEquals(referenceSum(pseudo), partial);
        assertEquals(Checksum.pseudoHeaderSum(ip, IpProto.UDP, 13), partial);

        udp.setChecksum(partial);
        assertEquals(UdpStatus.PARTIAL, Checksum.verifyUdp(ip, udp));

        // What the device does with it: sum from the UDP header to the end, complement, store.
        int completed = Checksum.finish(Checksum.sum(udp.segment(), udp.offset(), 13));
        udp.setChecksum(completed);
        assertEquals(0x097B, completed);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
    }

    @Test
    void udpLengthMustFitThePacket() {
        XdpPacket packet = udp4Frame(new byte[10]);
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        udp.setChecksum(1);
        udp.setLength(19);
        assertThrows(IndexOutOfBoundsException.class, () -> Checksum.udp(ip, udp));
        assertEquals(UdpStatus.INVALID, Checksum.verifyUdp(ip, udp));
        udp.setLength(7);
        assertThrows(IndexOutOfBoundsException.class, () -> Checksum.udp(ip, udp));
        assertEquals(UdpStatus.INVALID, Checksum.verifyUdp(ip, udp));
        udp.setLength(18);
        udp.setChecksum(Checksum.udp(ip, udp));
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
    }

    // UDP over IPv6

    private XdpPacket udp6Frame(byte[] payload) {
        XdpPacket packet = frames.packet(1, 0);
        packet.adjustTail(14 + 40 + 8);
        packet.read(0, new EthHdr()).setEtherType(EtherType.IPV6);
        Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
        ip.reset(64, IpProto.UDP);
        ip.setSource(IPV6_SOURCE);
        ip.setDestination(IPV6_DESTINATION);
        ip.setPayloadLength(8 + payload.length);
        UdpHdr udp = packet.read(54, new UdpHdr());
        udp.setSourcePort(12345);
        udp.setDestinationPort(53);
        udp.setLength(8 + payload.length);
        packet.append(payload);
        return packet;
    }

    @Test
    void udpOverIpv6FixedVector() {
        XdpPacket packet = udp6Frame("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
        UdpHdr udp = packet.read(54, new UdpHdr());
        assertEquals(0x301F, Checksum.udp(ip, udp));
        udp.setChecksum(0x301F);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
    }

    @Test
    void udpOverIpv6MatchesTheReference() {
        for (int length : new int[] {0, 1, 64, 1471, 1472}) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            XdpPacket packet = udp6Frame(payload);
            Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
            UdpHdr udp = packet.read(54, new UdpHdr());
            byte[] udpBytes = packet.sliceAtOffset(54, 8 + length).toArray(ValueLayout.JAVA_BYTE);
            byte[] pseudo = concat(IPV6_SOURCE, IPV6_DESTINATION, u32(8 + length), new byte[] {0, 0, 0, 17});
            int expected = referenceChecksum(concat(pseudo, udpBytes));
            assertEquals(expected == 0 ? 0xFFFF : expected, Checksum.udp(ip, udp), "payload " + length);
            assertEquals(referenceSum(pseudo), Checksum.udpPartial(ip, udp));
        }
    }

    /** Over IPv6 a zero field is not "no checksum" but invalid; a computed 0 is still sent as 0xFFFF. */
    @Test
    void udpOverIpv6ZeroIsInvalidAndBecomesAllOnes() {
        XdpPacket packet = udp6Frame(new byte[16]);
        Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
        UdpHdr udp = packet.read(54, new UdpHdr());
        assertEquals(UdpStatus.INVALID, Checksum.verifyUdp(ip, udp));

        byte[] pseudo = concat(IPV6_SOURCE, IPV6_DESTINATION, u32(24), new byte[] {0, 0, 0, 17});
        int sum = referenceSum(concat(pseudo, packet.sliceAtOffset(54, 24).toArray(ValueLayout.JAVA_BYTE)));
        packet.sliceAtOffset(54 + 8 + 14, 2).set(NetworkOrder.U16, 0, (short) (~sum & 0xFFFF));
        assertEquals(0xFFFF, Checksum.udp(ip, udp));
        udp.setChecksum(0xFFFF);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));

        udp.setChecksum(Checksum.udpPartial(ip, udp));
        assertEquals(UdpStatus.PARTIAL, Checksum.verifyUdp(ip, udp));
    }

    @Test
    void ipv6PseudoHeaderUsesUdpWhateverTheNextHeader() {
        XdpPacket packet = udp6Frame(new byte[3]);
        Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
        UdpHdr udp = packet.read(54, new UdpHdr());
        int before = Checksum.udp(ip, udp);
        ip.setNextHeader(IpProto.HOPOPT);
        assertEquals(before, Checksum.udp(ip, udp));
    }

    @Test
    void ipv6PseudoHeaderFromAddressHalvesIsTheHeaderViewsSum() {
        XdpPacket packet = udp6Frame(new byte[3]);
        Ipv6Hdr ip = packet.read(14, new Ipv6Hdr());
        java.util.Random random = new java.util.Random(6);
        byte[] source = new byte[16];
        byte[] destination = new byte[16];
        for (int i = 0; i < 1000; i++) {
            random.nextBytes(source);
            random.nextBytes(destination);
            if (i == 0) {
                java.util.Arrays.fill(source, (byte) 0xFF); // every carry
                java.util.Arrays.fill(destination, (byte) 0xFF);
            }
            ip.setSource(source);
            ip.setDestination(destination);
            java.nio.ByteBuffer s = java.nio.ByteBuffer.wrap(source);
            java.nio.ByteBuffer d = java.nio.ByteBuffer.wrap(destination);
            int length = random.nextInt(65_536);
            assertEquals(Checksum.pseudoHeaderSum(ip, IpProto.UDP, length),
                    Checksum.pseudoHeaderSum(s.getLong(0), s.getLong(8), d.getLong(0), d.getLong(8), IpProto.UDP,
                            length), "round " + i);
            byte[] pseudo = concat(source, destination, u32(length), new byte[] {0, 0, 0, 17});
            assertEquals(referenceSum(pseudo), Checksum.pseudoHeaderSum(s.getLong(0), s.getLong(8), d.getLong(0),
                    d.getLong(8), IpProto.UDP, length), "round " + i);
        }
    }

    // RFC 1624

    @Test
    void incrementalUpdateRfc1624Example() {
        // RFC 1624 section 4: eqn. 3 gives 0x0000 where eqn. 2 wrongly gives 0xFFFF.
        assertEquals(0x0000, Checksum.update(0xDD2F, 0x5555, 0x3285));
    }

    @Test
    void incrementalUpdateMatchesRecomputation() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 0);
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(segment, 0);
        for (int i = 0; i < 2000; i++) {
            ip.setChecksum(Checksum.ipv4Header(segment, 0, 20));
            int word = random.nextInt(10) * 2;
            if (word == 10) {
                continue;
            }
            int oldWord = segment.get(NetworkOrder.U16, word) & 0xFFFF;
            int newWord = random.nextInt(0x10000);
            segment.set(NetworkOrder.U16, word, (short) newWord);
            int updated = Checksum.update(ip.checksum(), oldWord, newWord);
            assertEquals(Checksum.ipv4Header(segment, 0, 20), updated, "word " + word);
        }
    }

    @Test
    void incrementalUpdateOfTtl() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 0);
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(segment, 0);
        ip.updateChecksum();
        int oldWord = ip.ttl() << 8 | ip.protocol();
        ip.setTtl(ip.ttl() - 1);
        ip.setChecksum(Checksum.update(ip.checksum(), oldWord, ip.ttl() << 8 | ip.protocol()));
        assertTrue(ip.isChecksumValid());
    }

    @Test
    void incrementalUpdateOfAnAddressMatchesRecomputation() {
        MemorySegment segment = segmentOf(IPV4_HEADER, 0);
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(segment, 0);
        for (int i = 0; i < 2000; i++) {
            ip.updateChecksum();
            int oldAddress = ip.source();
            int newAddress = random.nextInt();
            ip.setSource(newAddress);
            assertEquals(Checksum.ipv4Header(segment, 0, 20), Checksum.update32(ip.checksum(), oldAddress, newAddress));
        }
    }

    @Test
    void incrementalUpdateOfUdpMatchesRecomputation() {
        XdpPacket packet = udp4Frame(filled(50, 3));
        Ipv4Hdr ip = packet.read(14, new Ipv4Hdr());
        UdpHdr udp = packet.read(34, new UdpHdr());
        udp.setChecksum(Checksum.udp(ip, udp));
        int oldAddress = ip.destination();
        ip.setDestination(ipv4Address(10, 0, 0, 1));
        int updated = Checksum.update32(udp.checksum(), oldAddress, ip.destination());
        udp.setChecksum(updated == 0 ? 0xFFFF : updated);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
        int oldPort = udp.destinationPort();
        udp.setDestinationPort(4242);
        int again = Checksum.update(udp.checksum(), oldPort, 4242);
        udp.setChecksum(again == 0 ? 0xFFFF : again);
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
    }
}
