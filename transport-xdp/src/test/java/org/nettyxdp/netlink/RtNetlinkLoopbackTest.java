package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nettyxdp.sys.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Read-only queries in the test process's own namespace (no root needed: rtnetlink GETs are
 * unprivileged). Only loopback is asserted on, since other interfaces come and go.
 */
class RtNetlinkLoopbackTest {
    private static RtNetlink nl;

    @BeforeAll
    static void open() throws Exception {
        nl = new RtNetlink();
    }

    @AfterAll
    static void close() {
        if (nl != null) {
            nl.close();
        }
    }

    @Test
    void loopbackLink() throws Exception {
        LinkInfo lo = nl.link("lo");
        assertEquals(1, lo.index());
        assertTrue(lo.isLoopback() && lo.isUp(), lo.toString());
        assertEquals(LinkInfo.ARPHRD_LOOPBACK, lo.hardwareType());
        assertFalse(lo.isEthernet());
        assertEquals(MacAddress.ZERO, lo.mac());
        assertEquals(lo.name(), nl.link(1).name());
        assertEquals(lo.mtu(), nl.link(1).mtu());
        List<LinkInfo> all = nl.links();
        assertTrue(all.stream().anyMatch(l -> l.index() == 1 && l.name().equals("lo")), all.toString());
        assertTrue(nl.portId() != 0);
    }

    @Test
    void noSuchInterface() {
        for (String name : new String[] {"nxnl-none0", "x".repeat(16), ""}) {
            NetlinkException e = assertThrows(NetlinkException.class, () -> nl.link(name));
            assertEquals(Errno.ENODEV, e.errno());
            assertTrue(e.getMessage().contains("no such interface: " + name), e.getMessage());
            assertTrue(e.getMessage().contains("ENODEV"), e.getMessage());
        }
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.link(0x7fff_fff0));
        assertEquals(Errno.ENODEV, e.errno());
        assertTrue(e.getMessage().contains("no such interface: index " + 0x7fff_fff0), e.getMessage());
        assertThrows(NetlinkException.class, () -> nl.link(0));
    }

    @Test
    void loopbackAddressesAndRoutes() throws Exception {
        InetAddress v4 = InetAddress.getByName("127.0.0.1");
        assertEquals(1, nl.interfaceOwning(v4).orElseThrow());
        assertTrue(nl.addresses(1).stream().allMatch(a -> a.ifindex() == 1));
        assertTrue(nl.addresses(1).stream().anyMatch(a -> a.address().equals(v4) && a.prefixLength() == 8
                && a.scope() == AddressInfo.SCOPE_HOST));
        Route r = nl.route(v4);
        assertTrue(r.isLocal(), r.toString());
        assertEquals(1, r.oif());
        assertEquals(v4, r.preferredSource());
        assertEquals(v4, r.destination());
        assertEquals(v4, r.nextHop());

        InetAddress v6 = InetAddress.getByName("::1");
        assumeTrue(nl.interfaceOwning(v6).isPresent(), "IPv6 is disabled on loopback");
        Route r6 = nl.route(v6);
        assertTrue(r6.isLocal(), r6.toString());
        assertEquals(1, r6.oif());
        assertEquals(Route.TABLE_LOCAL, r6.table());
    }

    @Test
    void kernelErrorCarriesExtendedAck() {
        NetlinkException e = assertThrows(NetlinkException.class,
                () -> nl.neighbour(0x7fff_fff0, InetAddress.getByName("127.0.0.2")));
        assertEquals(Errno.ENODEV, e.errno());
        assertEquals("RTM_GETNEIGH", e.call());
        assertNotNull(e.extAck(), "kernels since 4.12 explain errors");
        assertTrue(e.getMessage().contains(e.extAck()), e.getMessage());
    }

    /** A reply that does not fit is reported, the rest of the dump drained, and the socket stays usable. */
    @Test
    void truncationIsDetectedAndRecovered() throws Exception {
        try (RtNetlink small = new RtNetlink(256)) {
            for (int i = 0; i < 3; i++) {
                NetlinkProtocolException e = assertThrows(NetlinkProtocolException.class, small::links);
                assertTrue(e.getMessage().contains("truncated"), e.getMessage());
                Route r = small.route(InetAddress.getByName("127.0.0.1")); // fits; must not see dump leftovers
                assertTrue(r.isLocal());
            }
        }
    }

    @Test
    void closeIsIdempotentAndFinal() throws Exception {
        RtNetlink other = new RtNetlink();
        assertEquals(1, other.link(1).index());
        other.close();
        other.close();
        assertThrows(IllegalStateException.class, other::links);
    }

    @Test
    void manyRequestsOnOneSocket() throws Exception {
        for (int i = 0; i < 500; i++) {
            assertEquals("lo", nl.link(1).name());
        }
    }
}
