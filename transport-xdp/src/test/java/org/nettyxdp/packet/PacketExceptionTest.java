package org.nettyxdp.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.PacketException.Kind;

/** Each kind carries its numbers and reads well. */
class PacketExceptionTest {

    @Test
    void insufficientHeadroom() {
        PacketException e = PacketException.insufficientHeadroom(54, 53);
        assertEquals(Kind.INSUFFICIENT_HEADROOM, e.kind());
        assertEquals(54, e.diff());
        assertEquals(53, e.head());
        assertEquals(-1, e.offset());
        assertEquals(-1, e.size());
        assertEquals(-1, e.length());
        assertEquals("insufficient headroom: cannot move head down by 54 bytes, head is at 53", e.getMessage());
    }

    @Test
    void invalidPacketLength() {
        PacketException e = PacketException.invalidPacketLength();
        assertEquals(Kind.INVALID_PACKET_LENGTH, e.kind());
        assertEquals(-1, e.diff());
        assertEquals("invalid packet length", e.getMessage());
    }

    @Test
    void invalidOffset() {
        PacketException e = PacketException.invalidOffset(11, 10);
        assertEquals(11, e.offset());
        assertEquals(10, e.length());
        assertEquals(-1, e.size());
        assertEquals("invalid offset: offset 11 is beyond packet length 10", e.getMessage());
    }

    @Test
    void insufficientData() {
        PacketException e = PacketException.insufficientData(3, 8, 10);
        assertEquals(3, e.offset());
        assertEquals(8, e.size());
        assertEquals(10, e.length());
        assertEquals("insufficient data: 8 bytes at offset 3 exceed packet length 10", e.getMessage());
    }

    @Test
    void unsupportedOffloads() {
        assertEquals("TX checksum unsupported", PacketException.checksumUnsupported().getMessage());
        assertEquals("TX timestamp unsupported", PacketException.timestampUnsupported().getMessage());
        assertEquals(Kind.TIMESTAMP_UNSUPPORTED, PacketException.timestampUnsupported().kind());
    }

    @Test
    void kindDescriptions() {
        assertEquals("insufficient headroom", Kind.INSUFFICIENT_HEADROOM.description());
        assertEquals("invalid packet length", Kind.INVALID_PACKET_LENGTH.description());
        assertEquals("invalid offset", Kind.INVALID_OFFSET.description());
        assertEquals("insufficient data", Kind.INSUFFICIENT_DATA.description());
        assertEquals("TX checksum unsupported", Kind.CHECKSUM_UNSUPPORTED.description());
        assertEquals("TX timestamp unsupported", Kind.TIMESTAMP_UNSUPPORTED.description());
    }
}
