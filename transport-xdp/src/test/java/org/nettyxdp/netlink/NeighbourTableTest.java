package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The monitor's neighbour table: what it reports as changed, IPv4 and IPv6 lookups, and its lock-free
 * IPv4 map against a {@link HashMap} under random operations and with a reader racing the writer.
 */
class NeighbourTableTest {
    private static final MacAddress MAC_A = MacAddress.of(new byte[] {2, 0, 0, 0, 0, 0xa});
    private static final MacAddress MAC_B = MacAddress.of(new byte[] {2, 0, 0, 0, 0, 0xb});

    private static Neighbour nb(int ifindex, String ip, MacAddress mac, int state) throws Exception {
        return new Neighbour(ifindex, InetAddress.getByName(ip), mac, state, 0);
    }

    @Test
    void reportsOnlyChangesOfKnownEntries() throws Exception {
        NeighbourTable t = new NeighbourTable();
        for (String ip : List.of("10.0.0.2", "fd00::2")) {
            InetAddress a = InetAddress.getByName(ip);
            assertFalse(t.update(nb(3, ip, MAC_A, Neighbour.NUD_REACHABLE), false), "a new entry is no change");
            assertEquals(MAC_A.toLong(), t.mac(3, a));
            assertEquals(0, t.mac(4, a), "another interface's neighbour");
            assertFalse(t.update(nb(3, ip, MAC_A, Neighbour.NUD_STALE), false), "the same MAC");
            assertTrue(t.update(nb(3, ip, MAC_B, Neighbour.NUD_REACHABLE), false), "a new MAC");
            assertEquals(MAC_B.toLong(), t.mac(3, a));
            assertTrue(t.update(nb(3, ip, null, Neighbour.NUD_FAILED), false), "unusable");
            assertEquals(0, t.mac(3, a));
            assertFalse(t.update(nb(3, ip, null, Neighbour.NUD_INCOMPLETE), false), "unknown and unusable");
            t.update(nb(3, ip, MAC_A, Neighbour.NUD_REACHABLE), false);
            assertTrue(t.update(nb(3, ip, MAC_A, Neighbour.NUD_REACHABLE), true), "deleted");
            assertEquals(0, t.mac(3, a));
        }
        assertEquals(0, t.mac(3, InetAddress.getByName("10.0.0.2").hashCode()));
    }

    @Test
    void forgetsAnInterfaceAndReplacesAll() throws Exception {
        NeighbourTable t = new NeighbourTable();
        t.update(nb(3, "10.0.0.2", MAC_A, Neighbour.NUD_REACHABLE), false);
        t.update(nb(3, "fd00::2", MAC_A, Neighbour.NUD_REACHABLE), false);
        t.update(nb(4, "10.0.0.2", MAC_B, Neighbour.NUD_PERMANENT), false);
        t.removeInterface(3);
        assertEquals(0, t.mac(3, InetAddress.getByName("10.0.0.2")));
        assertEquals(0, t.mac(3, InetAddress.getByName("fd00::2")));
        assertEquals(MAC_B.toLong(), t.mac(4, InetAddress.getByName("10.0.0.2").hashCode()));
        t.replaceAll(List.of(nb(5, "10.0.0.9", MAC_A, Neighbour.NUD_STALE),
                nb(5, "10.0.0.10", null, Neighbour.NUD_INCOMPLETE)));
        assertEquals(0, t.mac(4, InetAddress.getByName("10.0.0.2")));
        assertEquals(MAC_A.toLong(), t.mac(5, InetAddress.getByName("10.0.0.9")));
        assertFalse(t.update(nb(5, "10.0.0.10", MAC_A, Neighbour.NUD_REACHABLE), false), "was not usable");
    }

    @Test
    void ipv4MapAgreesWithAHashMap() {
        Ipv4NeighbourMacs m = new Ipv4NeighbourMacs();
        Map<Long, Long> expected = new HashMap<>();
        Random r = new Random(11);
        for (int op = 0; op < 200_000; op++) {
            int ifindex = 1 + r.nextInt(4);
            int address = 0x0a00_0000 + r.nextInt(3000);
            long key = (long) ifindex << 32 | (address & 0xffff_ffffL);
            int what = r.nextInt(100);
            if (what < 55) {
                long mac = r.nextLong() & 0xffff_ffff_ffffL;
                Long old = expected.put(key, mac);
                assertEquals(old == null ? -1 : old, m.put(ifindex, address, mac));
            } else if (what < 99) {
                Long old = expected.remove(key);
                assertEquals(old == null ? -1 : old, m.remove(ifindex, address));
            } else {
                m.removeInterface(ifindex);
                expected.keySet().removeIf(k -> (int) (k >>> 32) == ifindex);
            }
            Long want = expected.get(key);
            assertEquals(want == null ? -1 : want, m.get(ifindex, address));
            assertEquals(expected.size(), m.size());
        }
        expected.forEach((k, v) -> assertEquals(v, m.get((int) (k >>> 32), k.intValue())));
        assertEquals(-1L, m.put(1, 7, 0));
        assertEquals(0L, m.get(1, 7), "an all-zero MAC is an entry");
        m.clear();
        assertEquals(-1, m.get(1, 7));
        assertEquals(0, m.size());
    }

    /** A reader racing the writer (inserts, updates, removals, growth) never sees another key's MAC. */
    @Test
    void aReaderNeverSeesAnotherKeysMac() throws Exception {
        Ipv4NeighbourMacs m = new Ipv4NeighbourMacs();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> wrong = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            Random r = new Random(3);
            while (!done.get() && wrong.get() == null) {
                int ifindex = 1 + r.nextInt(4);
                int address = r.nextInt(5000);
                long mac = m.get(ifindex, address);
                if (mac != -1 && mac >>> 24 != tag(ifindex, address)) {
                    wrong.set(Long.toHexString(mac) + " for ifindex " + ifindex + " address " + address);
                }
            }
        });
        reader.start();
        try {
            Random r = new Random(5);
            for (int op = 0; op < 2_000_000 && wrong.get() == null; op++) {
                int ifindex = 1 + r.nextInt(4);
                int address = r.nextInt(5000);
                if (op % 300_000 == 299_999) {
                    m.clear();
                } else if (r.nextInt(3) == 0) {
                    m.remove(ifindex, address);
                } else {
                    m.put(ifindex, address, (long) tag(ifindex, address) << 24 | op & 0xff_ffff);
                }
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertNull(wrong.get());
    }

    /** 24 bits naming the key, kept in the top of every MAC the racing writer stores for it. */
    private static int tag(int ifindex, int address) {
        return ifindex << 16 | address;
    }
}
