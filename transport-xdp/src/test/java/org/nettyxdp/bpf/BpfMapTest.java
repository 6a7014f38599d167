package org.nettyxdp.bpf;

import org.nettyxdp.testing.TestHosts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Maps against the real kernel. */
class BpfMapTest {

    @BeforeEach
    void root() {
        TestHosts.assumeRoot("bpf(2) (CAP_BPF + CAP_NET_ADMIN)");
    }

    @Test
    void hashCreateUpdateLookupDelete() throws Exception {
        try (BpfMap map = BpfMap.create(BpfCommand.MAP_TYPE_HASH, "nx_test_hash", 4, 8, 16, 0);
             Arena arena = Arena.ofConfined()) {
            assertTrue(map.fd() > 0);
            MemorySegment key = arena.allocateFrom(JAVA_INT, 7);
            MemorySegment value = arena.allocateFrom(JAVA_LONG, 0x1122334455L);
            MemorySegment out = arena.allocate(JAVA_LONG);
            assertFalse(map.lookup(key, out));
            map.update(key, value, BpfCommand.BPF_NOEXIST);
            assertTrue(map.lookup(key, out));
            assertEquals(0x1122334455L, out.get(JAVA_LONG, 0));

            BpfException dup = assertThrows(BpfException.class, () -> map.update(key, value, BpfCommand.BPF_NOEXIST));
            assertEquals(Errno.EEXIST, dup.errno());
            assertTrue(dup.getMessage().contains("nx_test_hash"), dup.getMessage());

            assertTrue(map.delete(key));
            assertFalse(map.delete(key));
            assertFalse(map.lookup(key, out));
        }
    }

    @Test
    void hashFullReportsE2big() throws Exception {
        try (BpfMap map = BpfMap.create(BpfCommand.MAP_TYPE_HASH, "nx_test_full", 4, 4, 2, 0);
             Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(JAVA_INT, 1);
            map.update(arena.allocateFrom(JAVA_INT, 1), v, BpfCommand.BPF_ANY);
            map.update(arena.allocateFrom(JAVA_INT, 2), v, BpfCommand.BPF_ANY);
            BpfException e = assertThrows(BpfException.class,
                    () -> map.update(arena.allocateFrom(JAVA_INT, 3), v, BpfCommand.BPF_ANY));
            assertEquals(Errno.E2BIG, e.errno());
            assertTrue(e.getMessage().contains("max entries 2"), e.getMessage());
        }
    }

    @Test
    void invalidCreateNamesTheMap() {
        // value size 3 is fine for a hash, but an XSKMAP needs 4-byte keys and values
        BpfException e = assertThrows(BpfException.class,
                () -> BpfMap.create(BpfCommand.MAP_TYPE_XSKMAP, "nx_bad_xsk", 4, 8, 4, 0));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("bpf(BPF_MAP_CREATE nx_bad_xsk) failed: EINVAL"), e.getMessage());
    }

    @Test
    void portMapPutGetRemove() throws Exception {
        try (PortMap ports = PortMap.create("nx_test_ports", 64)) {
            java.net.InetAddress any = java.net.InetAddress.getByName("0.0.0.0");
            assertNull(ports.get(9000, any));
            ports.put(9000, any, 3, 3498);
            assertEquals(new PortMap.Entry(3, 3498), ports.get(9000, any));
            ports.put(9000, any, 4, 0);
            assertEquals(new PortMap.Entry(4, 0), ports.get(9000, any));
            ports.put(65535, any, 1, 100);
            ports.put(0, any, 2, 100);
            assertEquals(new PortMap.Entry(1, 100), ports.get(65535, any));
            assertTrue(ports.remove(9000, any));
            assertFalse(ports.remove(9000, any));
            assertNull(ports.get(9000, any));
            assertThrows(IllegalArgumentException.class, () -> ports.put(65536, any, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> ports.put(-1, any, 0, 0));
        }
    }

    @Test
    void portMapIsKeyedByPortAndAddress() throws Exception {
        try (PortMap ports = PortMap.create("nx_test_ports_a", 8)) {
            java.net.InetAddress v4 = java.net.InetAddress.getByName("10.1.2.3");
            java.net.InetAddress v4b = java.net.InetAddress.getByName("10.1.2.4");
            java.net.InetAddress v6 = java.net.InetAddress.getByName("fd00::1:2");
            ports.put(1, v4, 0, 100);
            ports.put(1, v6, 1, 200);
            java.net.InetAddress any4 = java.net.InetAddress.getByName("0.0.0.0");
            java.net.InetAddress any6 = java.net.InetAddress.getByName("::");
            ports.put(1, any4, 2, 300);
            assertEquals(new PortMap.Entry(0, 100), ports.get(1, v4));
            assertEquals(new PortMap.Entry(1, 200), ports.get(1, v6));
            assertEquals(new PortMap.Entry(2, 300), ports.get(1, any4));
            assertNull(ports.get(1, v4b), "no wildcard fallback in get");
            assertNull(ports.get(2, v4));
            // 0.0.0.0 and :: are the wildcard entries of their families
            assertNull(ports.get(1, any6), "the IPv4 wildcard is not the IPv6 one");
            ports.put(1, any6, 5, 500);
            assertEquals(new PortMap.Entry(5, 500), ports.get(1, any6));
            assertTrue(ports.remove(1, any6));
            ports.put(1, v4, 3, 0);
            assertEquals(new PortMap.Entry(3, 0), ports.get(1, v4), "replaced");
            // an IPv4-mapped IPv6 address is another key than the IPv4 address
            byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 1, 2, 3};
            java.net.InetAddress v4mapped = java.net.Inet6Address.getByAddress(null, mapped, -1);
            assertNull(ports.get(1, v4mapped));
            ports.put(1, v4mapped, 4, 0);
            assertEquals(new PortMap.Entry(3, 0), ports.get(1, v4));
            assertEquals(new PortMap.Entry(4, 0), ports.get(1, v4mapped));
            assertTrue(ports.remove(1, v4));
            assertFalse(ports.remove(1, v4));
            assertNull(ports.get(1, v4));
            assertEquals(new PortMap.Entry(1, 200), ports.get(1, v6), "other addresses stay");
            assertEquals(new PortMap.Entry(2, 300), ports.get(1, any4));
            assertTrue(ports.remove(1, any4));
            assertNull(ports.get(1, any4));
        }
    }

    @Test
    void xskMapRejectsNonSocketFd() throws Exception {
        try (XskMap xsks = XskMap.create("nx_test_xsks", 8)) {
            int efd = Syscalls.eventfd(0, Linux.EFD_CLOEXEC);
            try {
                BpfException e = assertThrows(BpfException.class, () -> xsks.set(0, efd));
                assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
                assertTrue(e.getMessage().contains("nx_test_xsks"), e.getMessage());
                assertTrue(e.getMessage().contains("AF_XDP"), e.getMessage());
            } finally {
                Syscalls.close(efd);
            }
        }
    }

    @Test
    void xskMapRejectsNonXdpSocket() throws Exception {
        try (XskMap xsks = XskMap.create("nx_test_xsks", 8)) {
            int udp = Syscalls.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
            try {
                BpfException e = assertThrows(BpfException.class, () -> xsks.set(1, udp));
                assertEquals(Errno.EOPNOTSUPP, e.errno());
                assertTrue(e.getMessage().contains("not a bound AF_XDP socket"), e.getMessage());
            } finally {
                Syscalls.close(udp);
            }
        }
    }

    @Test
    void xskMapIndexChecksAndClearOfEmpty() throws Exception {
        try (XskMap xsks = XskMap.create("nx_test_xsks", 4)) {
            assertThrows(IndexOutOfBoundsException.class, () -> xsks.set(4, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> xsks.clear(-1));
            xsks.clear(2); // empty index: no error
            xsks.clear(2);
        }
    }

    @Test
    void counterMapSumsAndResets() throws Exception {
        try (CounterMap counters = CounterMap.create("nx_test_cnt", 2);
             Arena arena = Arena.ofConfined()) {
            assertEquals(0, counters.sum(0));
            int cpus = CounterMap.possibleCpus();
            MemorySegment values = arena.allocate(JAVA_LONG, cpus);
            for (int i = 0; i < cpus; i++) {
                values.setAtIndex(JAVA_LONG, i, 10 + i);
            }
            counters.update(arena.allocateFrom(JAVA_INT, 1), values, BpfCommand.BPF_ANY);
            long expected = 0;
            for (int i = 0; i < cpus; i++) {
                expected += 10 + i;
            }
            assertEquals(expected, counters.sum(1));
            assertEquals(0, counters.sum(0));
            counters.reset(1);
            assertEquals(0, counters.sum(1));
        }
    }

    @Test
    void closedMapRefusesUse() throws Exception {
        PortMap ports = PortMap.create("nx_test_closed", 4);
        ports.close();
        ports.close();
        assertTrue(ports.isClosed());
        assertThrows(IllegalStateException.class, () -> ports.put(1, java.net.InetAddress.getByName("::"), 0, 0));
    }
}
