package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.filled;
import static org.nettyxdp.testing.Frames.ipv4Address;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The seed crate's documented examples, one test each, with the same values. */
class XdpPacketExamplesTest {

    private final TestUmem frames = new TestUmem(TestUmem.SMALL, 4);

    @AfterEach
    void close() {
        frames.close();
    }

    private static byte[] nativeU32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    private static byte[] nativeU64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    @Test
    void len() {
        XdpPacket packet = frames.packet(0, 0);
        assertEquals(0, packet.len());
        packet.insert(0, filled(21, 2));
        assertEquals(21, packet.len());
    }

    @Test
    void isEmpty() {
        XdpPacket packet = frames.packet(0, 0);
        assertTrue(packet.isEmpty());
        packet.insert(0, new byte[] {1});
        assertFalse(packet.isEmpty());
    }

    @Test
    void capacity() {
        try (TestUmem pages = new TestUmem(TestUmem.PAGE, 1)) {
            XdpPacket packet = pages.packet(0, 0);
            assertEquals(4 * 1024 - XdpPacket.XDP_PACKET_HEADROOM, packet.capacity());
        }
    }

    @Test
    void clear() {
        XdpPacket packet = frames.packet(0, 0);
        assertTrue(packet.isEmpty());
        packet.insert(0, filled(21, 2));
        packet.clear();
        assertTrue(packet.isEmpty());
    }

    @Test
    void adjustHead() {
        XdpPacket packet = frames.packet(0, 20);

        packet.insert(0, filled(33, 0xff));
        assertEquals(33, packet.len());

        packet.adjustHead(33);
        assertTrue(packet.isEmpty());

        packet.adjustHead(-53);
        assertEquals(53, packet.len());

        PacketException e = assertThrows(PacketException.class, () -> packet.adjustHead(-1));
        assertEquals(PacketException.Kind.INSUFFICIENT_HEADROOM, e.kind());
    }

    @Test
    void adjustTail() {
        XdpPacket packet = frames.packet(0, 20);
        packet.insert(0, filled(10, 0xff));
        assertEquals(10, packet.len());

        for (int i = 0; i < 10; i++) {
            packet.adjustTail(-1);
        }
        assertTrue(packet.isEmpty());

        packet.adjustTail(10);
        byte[] bytes = new byte[10];
        packet.arrayAtOffset(0, bytes);
        assertArrayEquals(filled(10, 0xff), bytes);
    }

    @Test
    void read() {
        XdpPacket packet = frames.packet(0, 20);
        packet.adjustTail(34);
        EthHdr eth = packet.read(0, new EthHdr());
        eth.setSource(MacAddress.of(filled(6, 1)));
        eth.setDestination(MacAddress.of(filled(6, 2)));
        eth.setEtherType(EtherType.IPV4);
        Ipv4Hdr ip = packet.read(EthHdr.LEN, new Ipv4Hdr());
        ip.reset(64, IpProto.UDP);
        ip.setSource(ipv4Address(100, 1, 2, 100));
        ip.setDestination(ipv4Address(200, 2, 1, 200));
        assertEquals(EthHdr.LEN + Ipv4Hdr.LEN, packet.len());

        // Read an IPv4 header, which directly follows an Ethernet II header
        Ipv4Hdr ipHdr = packet.read(EthHdr.LEN, new Ipv4Hdr());
        assertEquals(ipv4Address(100, 1, 2, 100), ipHdr.source());
        assertEquals(ipv4Address(200, 2, 1, 200), ipHdr.destination());
    }

    @Test
    void write() {
        XdpPacket packet = frames.packet(0, 0);
        MemorySegment templates = frames.scratch(64);

        // Extend the tail so we have enough space for the writes
        packet.adjustTail(42);

        EthHdr eth = new EthHdr();
        eth.wrap(templates, 0);
        eth.setSource(MacAddress.of(filled(6, 1)));
        eth.setDestination(MacAddress.of(filled(6, 2)));
        eth.setEtherType(EtherType.IPV4);
        packet.write(0, eth);

        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(templates, EthHdr.LEN);
        ip.reset(64, IpProto.UDP);
        ip.setSource(ipv4Address(100, 1, 2, 100));
        ip.setDestination(ipv4Address(200, 2, 1, 200));
        ip.setTotalLength(Ipv4Hdr.LEN + UdpHdr.LEN + 5);
        packet.write(EthHdr.LEN, ip);

        UdpHdr udp = new UdpHdr();
        udp.wrap(templates, EthHdr.LEN + Ipv4Hdr.LEN);
        udp.setSourcePort(50000);
        udp.setDestinationPort(80);
        udp.setLength(UdpHdr.LEN + 5);
        udp.setChecksum(0);
        packet.write(EthHdr.LEN + Ipv4Hdr.LEN, udp);

        packet.insert(EthHdr.LEN + Ipv4Hdr.LEN + UdpHdr.LEN, filled(5, 0xf0));

        // The packet holds copies: parse them back out of the frame.
        assertEquals(47, packet.len());
        EthHdr readEth = packet.read(0, new EthHdr());
        assertEquals(MacAddress.of(filled(6, 2)), readEth.destination());
        assertEquals(MacAddress.of(filled(6, 1)), readEth.source());
        assertEquals(EtherType.IPV4, readEth.etherType());
        Ipv4Hdr readIp = packet.read(EthHdr.LEN, new Ipv4Hdr());
        assertEquals(4, readIp.version());
        assertEquals(20, readIp.headerLength());
        assertEquals(64, readIp.ttl());
        assertEquals(IpProto.UDP, readIp.protocol());
        assertEquals(33, readIp.totalLength());
        assertEquals(ipv4Address(100, 1, 2, 100), readIp.source());
        assertEquals(ipv4Address(200, 2, 1, 200), readIp.destination());
        UdpHdr readUdp = packet.read(EthHdr.LEN + Ipv4Hdr.LEN, new UdpHdr());
        assertEquals(50000, readUdp.sourcePort());
        assertEquals(80, readUdp.destinationPort());
        assertEquals(13, readUdp.length());
        assertEquals(0, readUdp.checksum());
        byte[] payload = new byte[5];
        packet.arrayAtOffset(42, payload);
        assertArrayEquals(filled(5, 0xf0), payload);
    }

    @Test
    void arrayAtOffset() {
        XdpPacket packet = frames.packet(0, 0);
        // Insert a u32
        packet.insert(0, nativeU32(0xaabbccdd));

        byte[] bytes = new byte[4];
        packet.arrayAtOffset(0, bytes);

        assertEquals(0xaabbccdd, ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getInt());
    }

    @Test
    void sliceAtOffset() {
        XdpPacket packet = frames.packet(0, 0);
        // Insert string slice
        packet.insert(0, "abcd".getBytes(StandardCharsets.US_ASCII));

        MemorySegment bytes = packet.sliceAtOffset(0, 4);

        assertArrayEquals("abcd".getBytes(StandardCharsets.US_ASCII), bytes.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void insert() {
        XdpPacket packet = frames.packet(0, 0);
        // Insert a u32
        packet.insert(0, nativeU32(0xf0f1f2f3));

        // Insert a u64
        packet.insert(0, nativeU64(-1L));

        byte[] bytes8 = new byte[8];
        packet.arrayAtOffset(0, bytes8);
        assertEquals(-1L, ByteBuffer.wrap(bytes8).order(ByteOrder.nativeOrder()).getLong());

        byte[] bytes4 = new byte[4];
        packet.arrayAtOffset(8, bytes4);
        assertEquals(0xf0f1f2f3, ByteBuffer.wrap(bytes4).order(ByteOrder.nativeOrder()).getInt());
    }

    @Test
    void append() {
        XdpPacket packet = frames.packet(0, 0);
        packet.append("ab".getBytes(StandardCharsets.US_ASCII));
        packet.append(MemorySegment.ofArray("cd".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(4, packet.len());
        byte[] bytes = new byte[4];
        packet.arrayAtOffset(0, bytes);
        assertArrayEquals("abcd".getBytes(StandardCharsets.US_ASCII), bytes);
    }
}
