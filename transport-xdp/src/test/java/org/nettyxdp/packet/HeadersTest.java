package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.ipv4Address;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.Checksum.UdpStatus;

/** Header views: field layout in network byte order, VLAN tags, bounds. */
class HeadersTest {

    private static final HexFormat HEX = HexFormat.of();
    /** A captured-style frame: Ethernet, IPv4 (192.168.0.1 -> 192.168.0.199), UDP 12345 -> 53, "hello". */
    private static final byte[] UDP4_FRAME = HEX.parseHex(
            "020000000002" + "020000000001" + "0800"
            + "45000021" + "00004000" + "40110000" + "c0a80001" + "c0a800c7"
            + "30390035" + "000d097b"
            + "68656c6c6f");

    private final TestUmem frames = new TestUmem(TestUmem.SMALL, 2);

    @AfterEach
    void close() {
        frames.close();
    }

    private byte[] bytes(Header header) {
        return header.segment().asSlice(header.offset(), header.size()).toArray(ValueLayout.JAVA_BYTE);
    }

    private XdpPacket frameOf(byte[] bytes) {
        XdpPacket packet = frames.packet(0, 0);
        packet.append(bytes);
        return packet;
    }

    // Ethernet

    @Test
    void ethernetLayout() {
        EthHdr eth = new EthHdr();
        eth.wrap(frames.scratch(EthHdr.LEN), 0);
        eth.setDestination(MacAddress.parse("ff:ee:dd:cc:bb:aa"));
        eth.setSource(MacAddress.parse("02:00:5e:10:00:01"));
        eth.setEtherType(EtherType.IPV6);
        assertEquals("ffeeddccbbaa02005e10000186dd", HEX.formatHex(bytes(eth)));
        assertEquals(0xffeeddccbbaaL, eth.destinationBits());
        assertEquals(0x02005e100001L, eth.sourceBits());
        assertEquals(MacAddress.parse("02:00:5e:10:00:01"), eth.source());
        assertEquals(EtherType.IPV6, eth.etherType());
        assertFalse(eth.isVlanTagged());
        assertEquals(-1, eth.vlanTci());
        assertEquals(-1, eth.vlanId());
        assertEquals(EthHdr.LEN, eth.size());
    }

    @Test
    void vlanTaggedFrameIsParsed() {
        XdpPacket packet = frameOf(HEX.parseHex("ffffffffffff020000000001" + "8100" + "a07b" + "0800" + "45"));
        EthHdr eth = packet.read(0, new EthHdr());
        assertTrue(eth.isVlanTagged());
        assertEquals(0xa07b, eth.vlanTci());
        assertEquals(0x07b, eth.vlanId());
        assertEquals(EtherType.IPV4, eth.etherType());
        assertEquals(EthHdr.TAGGED_LEN, eth.size());
        assertTrue(eth.destination().isBroadcast());
    }

    @Test
    void settingAVlanTagKeepsTheEtherType() {
        EthHdr eth = new EthHdr();
        eth.wrap(frames.scratch(EthHdr.TAGGED_LEN), 0);
        eth.setEtherType(EtherType.ARP);
        eth.setVlanTag(0x0123);
        assertEquals("8100" + "0123" + "0806", HEX.formatHex(bytes(eth), 12, 18));
        assertEquals(EtherType.ARP, eth.etherType());
        eth.setEtherType(EtherType.IPV4);
        eth.setVlanTag(0x0456);
        assertEquals("8100" + "0456" + "0800", HEX.formatHex(bytes(eth), 12, 18));
    }

    @Test
    void vlanTagNeedsEighteenValidBytes() {
        XdpPacket packet = frameOf(new byte[17]);
        EthHdr eth = packet.read(0, new EthHdr());
        assertThrows(IndexOutOfBoundsException.class, () -> eth.setVlanTag(1));
        assertFalse(eth.isVlanTagged(), "nothing written");
        packet.adjustTail(1);
        packet.read(0, eth).setVlanTag(1);
        assertEquals(1, eth.vlanId());
    }

    @Test
    void taggingAFrameInPlace() {
        XdpPacket packet = frameOf(UDP4_FRAME);
        packet.insert(EthHdr.LEN, new byte[4]);
        EthHdr eth = packet.read(0, new EthHdr());
        eth.setVlanTag(0x0064);
        assertEquals(EtherType.IPV4, eth.etherType());
        assertEquals(100, eth.vlanId());
        assertEquals(4, packet.read(eth.size(), new Ipv4Hdr()).version());
    }

    private static EthHdr wrapped(MemorySegment memory, long offset) {
        EthHdr eth = new EthHdr();
        eth.wrap(memory, offset);
        return eth;
    }

    // MacAddress

    @Test
    void macAddressForms() {
        MacAddress mac = MacAddress.parse("02:00:5E:10:00:01");
        assertEquals("02:00:5e:10:00:01", mac.toString());
        assertEquals(mac, MacAddress.of(0x02005e100001L));
        assertEquals(mac, MacAddress.of(new byte[] {2, 0, 0x5e, 0x10, 0, 1}));
        assertArrayEquals(new byte[] {2, 0, 0x5e, 0x10, 0, 1}, mac.toArray());
        assertEquals(mac.hashCode(), MacAddress.of(mac.toLong()).hashCode());
        assertNotEquals(mac, MacAddress.ZERO);
        assertFalse(mac.isMulticast());
        assertTrue(MacAddress.parse("01:00:5e:00:00:fb").isMulticast());
        assertTrue(MacAddress.BROADCAST.isMulticast());
        assertTrue(MacAddress.BROADCAST.isBroadcast());
        assertEquals("00:00:00:00:00:00", MacAddress.ZERO.toString());
    }

    @Test
    void macAddressRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(1L << 48));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(-1L));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(new byte[5]));
        for (String text : new String[] {"", "02:00:5e:10:00", "02:00:5e:10:00:01:02", "2:00:5e:10:00:01",
            "02:00:5e:10:00:0g", "02-00-5e-10-00-01", "+2:00:5e:10:00:01"}) {
            assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(text), text);
        }
    }

    // IPv4

    @Test
    void ipv4ResetZeroesEverythingElse() {
        Ipv4Hdr ip = new Ipv4Hdr();
        MemorySegment memory = frames.scratch(Ipv4Hdr.LEN);
        memory.fill((byte) 0xAB);
        ip.wrap(memory, 0);
        ip.reset(64, IpProto.UDP);
        assertEquals("4500000000000000401100000000000000000000", HEX.formatHex(bytes(ip)));
        assertEquals(4, ip.version());
        assertEquals(5, ip.ihl());
        assertEquals(20, ip.headerLength());
    }

    @Test
    void ipv4FieldsInNetworkOrder() {
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(frames.scratch(Ipv4Hdr.LEN), 0);
        ip.reset(1, IpProto.TCP);
        ip.setTos(0xB8);
        ip.setTotalLength(0x1234);
        ip.setIdentification(0xBEEF);
        ip.setDontFragment(true);
        ip.setTtl(0xFE);
        ip.setProtocol(IpProto.UDP);
        ip.setChecksum(0xCAFE);
        ip.setSource(ipv4Address(10, 1, 2, 3));
        ip.setDestination(ipv4Address(192, 168, 255, 254));
        assertEquals("45b81234beef4000fe11cafe0a010203c0a8fffe", HEX.formatHex(bytes(ip)));
        assertEquals(0xB8, ip.tos());
        assertEquals(0x1234, ip.totalLength());
        assertEquals(0xBEEF, ip.identification());
        assertEquals(0xFE, ip.ttl());
        assertEquals(IpProto.UDP, ip.protocol());
        assertEquals(0xCAFE, ip.checksum());
        assertEquals(ipv4Address(10, 1, 2, 3), ip.source());
        assertEquals(ipv4Address(192, 168, 255, 254), ip.destination());
        assertTrue(ip.dontFragment());
        assertFalse(ip.isFragment());
        ip.setDontFragment(false);
        assertEquals(0, ip.flagsAndFragmentOffset());
    }

    @Test
    void ipv4Fragments() {
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(frames.scratch(Ipv4Hdr.LEN), 0);
        ip.reset(64, IpProto.UDP);
        ip.setFlagsAndFragmentOffset(0x2000 | 185);
        assertTrue(ip.moreFragments());
        assertEquals(1480, ip.fragmentOffset());
        assertTrue(ip.isFragment());
        ip.setFlagsAndFragmentOffset(185);
        assertFalse(ip.moreFragments());
        assertTrue(ip.isFragment(), "the last fragment");
        ip.setFlagsAndFragmentOffset(0x2000);
        assertTrue(ip.isFragment(), "the first fragment");
        ip.setDontFragment(true);
        assertEquals(0x6000, ip.flagsAndFragmentOffset());
    }

    @Test
    void ipv4HeaderLength() {
        Ipv4Hdr ip = new Ipv4Hdr();
        ip.wrap(frames.scratch(Ipv4Hdr.MAX_LEN), 0);
        ip.reset(64, IpProto.UDP);
        ip.setHeaderLength(60);
        assertEquals(15, ip.ihl());
        assertEquals(4, ip.version());
        assertEquals(Ipv4Hdr.LEN, ip.size(), "options are not part of the view");
        ip.updateChecksum();
        assertTrue(ip.isChecksumValid());
        assertThrows(IllegalArgumentException.class, () -> ip.setHeaderLength(16));
        assertThrows(IllegalArgumentException.class, () -> ip.setHeaderLength(22));
        assertThrows(IllegalArgumentException.class, () -> ip.setHeaderLength(64));
    }

    @Test
    void ipv4ChecksumGuardsTheIhl() {
        XdpPacket packet = frameOf(new byte[24]);
        Ipv4Hdr ip = packet.read(0, new Ipv4Hdr());
        ip.reset(64, IpProto.UDP);
        ip.setHeaderLength(28);
        assertThrows(IndexOutOfBoundsException.class, ip::updateChecksum);
        assertFalse(ip.isChecksumValid());
        ip.setHeaderLength(24);
        ip.updateChecksum();
        assertTrue(ip.isChecksumValid());
        packet.sliceAtOffset(0, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x44);
        assertThrows(IndexOutOfBoundsException.class, ip::updateChecksum);
        assertFalse(ip.isChecksumValid());
    }

    // IPv6

    @Test
    void ipv6Layout() {
        byte[] source = HEX.parseHex("fe800000000000000000000000000001");
        byte[] destination = HEX.parseHex("ff020000000000000000000000000001");
        Ipv6Hdr ip = new Ipv6Hdr();
        MemorySegment memory = frames.scratch(Ipv6Hdr.LEN);
        memory.fill((byte) 0xAB);
        ip.wrap(memory, 0);
        ip.reset(255, IpProto.UDP);
        assertEquals("60000000" + "0000" + "11" + "ff" + "00".repeat(32), HEX.formatHex(bytes(ip)));
        ip.setTrafficClass(0xB8);
        ip.setFlowLabel(0xABCDE);
        ip.setPayloadLength(1232);
        ip.setSource(source);
        ip.setDestination(destination);
        assertEquals("6b8abcde" + "04d0" + "11" + "ff" + HEX.formatHex(source) + HEX.formatHex(destination),
                HEX.formatHex(bytes(ip)));
        assertEquals(6, ip.version());
        assertEquals(0xB8, ip.trafficClass());
        assertEquals(0xABCDE, ip.flowLabel());
        ip.setTrafficClass(0);
        assertEquals(0xABCDE, ip.flowLabel());
        ip.setFlowLabel(0xFFFFFFFF);
        assertEquals(0xFFFFF, ip.flowLabel());
        assertEquals(6, ip.version());
        assertEquals(0, ip.trafficClass());
        assertEquals(1232, ip.payloadLength());
        assertEquals(IpProto.UDP, ip.nextHeader());
        assertEquals(255, ip.hopLimit());
        ip.setHopLimit(1);
        ip.setNextHeader(IpProto.ICMPV6);
        assertEquals(1, ip.hopLimit());
        assertEquals(IpProto.ICMPV6, ip.nextHeader());
        byte[] copy = new byte[16];
        ip.getSource(copy);
        assertArrayEquals(source, copy);
        ip.getDestination(copy);
        assertArrayEquals(destination, copy);
        assertThrows(IllegalArgumentException.class, () -> ip.setSource(new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> ip.getDestination(new byte[15]));
    }

    // UDP

    @Test
    void udpLayout() {
        UdpHdr udp = new UdpHdr();
        udp.wrap(frames.scratch(UdpHdr.LEN), 0);
        udp.setSourcePort(65535);
        udp.setDestinationPort(53);
        udp.setLength(13);
        udp.setChecksum(0x097B);
        assertEquals("ffff0035000d097b", HEX.formatHex(bytes(udp)));
        assertEquals(65535, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(13, udp.length());
        assertEquals(0x097B, udp.checksum());
    }

    // Whole frames and bounds

    @Test
    void parsesAnEthernetIpv4UdpFrame() {
        XdpPacket packet = frameOf(UDP4_FRAME);
        EthHdr eth = packet.read(0, new EthHdr());
        assertEquals(EtherType.IPV4, eth.etherType());
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), eth.destination());
        Ipv4Hdr ip = packet.read(eth.size(), new Ipv4Hdr());
        assertEquals(packet.len() - eth.size(), ip.totalLength());
        assertFalse(ip.isChecksumValid(), "the frame carries no header checksum");
        ip.updateChecksum();
        assertTrue(ip.isChecksumValid());
        UdpHdr udp = packet.read(eth.size() + ip.headerLength(), new UdpHdr());
        assertEquals(12345, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(ip.totalLength() - ip.headerLength(), udp.length());
        assertEquals(UdpStatus.VALID, Checksum.verifyUdp(ip, udp));
        byte[] payload = new byte[udp.length() - UdpHdr.LEN];
        packet.arrayAtOffset(eth.size() + ip.headerLength() + UdpHdr.LEN, payload);
        assertEquals("hello", new String(payload, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void viewsWriteThroughToThePacket() {
        XdpPacket packet = frameOf(UDP4_FRAME);
        packet.read(34, new UdpHdr()).setDestinationPort(0xABCD);
        assertEquals((short) 0xABCD, packet.sliceAtOffset(36, 2).get(NetworkOrder.U16, 0));
    }

    @Test
    void wrapChecksTheSegment() {
        MemorySegment memory = frames.scratch(20);
        assertThrows(IndexOutOfBoundsException.class, () -> new Ipv4Hdr().wrap(memory, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> new UdpHdr().wrap(memory, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> new UdpHdr().wrap(memory, 13));
        new UdpHdr().wrap(memory, 12);
        memory.set(NetworkOrder.U16, 15, (short) EtherType.VLAN);
        assertThrows(IndexOutOfBoundsException.class, () -> new EthHdr().wrap(memory, 3), "tagged needs 18");
        memory.set(NetworkOrder.U16, 14, (short) EtherType.VLAN);
        assertEquals(EthHdr.TAGGED_LEN, wrapped(memory, 2).size());
    }

    @Test
    void aViewCanBeRepointed() {
        XdpPacket packet = frameOf(UDP4_FRAME);
        UdpHdr udp = new UdpHdr();
        assertEquals(12345, packet.read(34, udp).sourcePort());
        assertEquals(0x0200, packet.read(0, udp).sourcePort());
        assertEquals(packet.addr(), udp.offset());
        assertEquals(packet.umem(), udp.segment());
    }
}
