package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;
import org.nettyxdp.netlink.AddressInfo;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The source addresses the fast path refuses (the differential test checks them against the kernel). */
class MartianFilterTest {
    static final LocalAddresses LOCAL = LocalAddresses.of(List.of(
            info(2, "10.0.0.1", 24), info(2, "fd00::1", 64), info(2, "fe80::1", 64), info(3, "fe80::2", 64),
            info(3, "192.168.7.1", 24), info(1, "127.0.0.1", 8), info(1, "::1", 128)), 2, false);

    static AddressInfo info(int ifindex, String address, int prefix) {
        try {
            return new AddressInfo(ifindex, InetAddress.getByName(address), prefix, 0, 0);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static int v4(String s) throws Exception {
        return XdpFastPath.toInt(InetAddress.getByName(s).getAddress());
    }

    static byte[] v6(String s) throws Exception {
        byte[] b = InetAddress.getByName(s).getAddress();
        if (b.length == 4) { // IPv4-mapped literals parse as IPv4
            byte[] m = new byte[16];
            m[10] = -1;
            m[11] = -1;
            System.arraycopy(b, 0, m, 12, 4);
            return m;
        }
        return b;
    }

    @Test
    void ipv4() throws Exception {
        for (String martian : new String[] {"0.0.0.0", "224.0.0.5", "239.1.2.3", "255.255.255.255", "127.0.0.1",
                "127.9.9.9", "10.0.0.1", "192.168.7.1"}) {
            assertTrue(MartianFilter.isMartian4(v4(martian), false, LOCAL), martian);
        }
        for (String fine : new String[] {"10.0.0.2", "0.1.2.3", "169.254.7.7", "10.0.0.255", "8.8.8.8"}) {
            assertFalse(MartianFilter.isMartian4(v4(fine), false, LOCAL), fine);
        }
        assertFalse(MartianFilter.isMartian4(v4("127.0.0.1"), true, LOCAL), "loopback on lo");
        assertFalse(MartianFilter.isMartian4(v4("10.0.0.1"), true, LOCAL), "own address on lo");
    }

    @Test
    void ipv6() throws Exception {
        for (String martian : new String[] {"ff02::1", "::1", "::", "::ffff:10.0.0.2", "fd00::1", "fe80::2"}) {
            assertTrue(MartianFilter.isMartian6(v6(martian), false, LOCAL), martian);
        }
        for (String fine : new String[] {"fd00::2", "fe80::7", "2001:db8::1", "::2"}) {
            assertFalse(MartianFilter.isMartian6(v6(fine), false, LOCAL), fine);
        }
        assertFalse(MartianFilter.isMartian6(v6("::1"), true, LOCAL), "loopback on lo");
    }

    @Test
    void destinationsAreWhatTheKernelAcceptsOnTheInterface() throws Exception {
        // no loopback addresses off lo, no other interface's link-local address
        assertEquals(List.of(InetAddress.getByName("10.0.0.1"), InetAddress.getByName("fd00::1"),
                InetAddress.getByName("fe80::1"), InetAddress.getByName("192.168.7.1")), LOCAL.destinations());
    }
}
