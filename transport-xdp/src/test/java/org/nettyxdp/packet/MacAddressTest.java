package org.nettyxdp.packet;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MacAddressTest {
    @Test
    void roundTrips() {
        MacAddress m = MacAddress.parse("02:00:5E:10:00:Ff");
        assertEquals(0x02005e1000ffL, m.toLong());
        assertEquals("02:00:5e:10:00:ff", m.toString());
        assertArrayEquals(new byte[] {2, 0, 0x5e, 0x10, 0, (byte) 0xff}, m.toArray());
        assertEquals(m, MacAddress.of(m.toArray()));
        assertEquals(m, MacAddress.of(new byte[] {9, 2, 0, 0x5e, 0x10, 0, (byte) 0xff}, 1));
    }

    @Test
    void predicates() {
        assertTrue(MacAddress.ZERO.isZero());
        assertTrue(MacAddress.BROADCAST.isMulticast());
        assertTrue(MacAddress.parse("33:33:00:00:00:01").isMulticast());
        assertFalse(MacAddress.parse("02:00:00:00:00:01").isMulticast());
        assertEquals("ff:ff:ff:ff:ff:ff", MacAddress.BROADCAST.toString());
    }

    @Test
    void rejectsGarbage() {
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(1L << 48));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:5e:10:00"));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:5e:10:00:fg"));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:5e:10:00.ff"));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(new byte[5]));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(new byte[6], 1));
    }
}
