package org.nettyxdp.xsk;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which other binds share a channel's steering address, as the kernel's UDP lookup scores them. */
class PortSharingTest {
    static InetAddress a(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void parsesProcNetUdpAddresses() throws Exception {
        assertEquals(a("127.0.0.1"), PortSharing.address("0100007F"));
        assertEquals(a("10.1.2.3"), PortSharing.address("0302010A"));
        assertEquals(a("::"), PortSharing.address("00000000000000000000000000000000"));
        assertEquals(a("::1"), PortSharing.address("00000000000000000000000001000000"));
        assertEquals(a("fd00::1:2"), PortSharing.address("000000FD000000000000000002000100"));
        // IPv4-mapped entries of udp6 are IPv4 addresses
        assertEquals(a("10.1.2.3"), PortSharing.address("0000000000000000FFFF00000302010A"));
    }

    @Test
    void theMoreSpecificBindWins() throws Exception {
        // our wildcard against another process's address: theirs is more specific
        assertTrue(PortSharing.competes(a("0.0.0.0"), false, a("10.0.0.1")));
        // our address against their wildcard: ours is more specific
        assertFalse(PortSharing.competes(a("10.0.0.1"), false, a("0.0.0.0")));
        // the same address (SO_REUSEADDR/SO_REUSEPORT): shared
        assertTrue(PortSharing.competes(a("10.0.0.1"), false, a("10.0.0.1")));
        assertFalse(PortSharing.competes(a("10.0.0.1"), false, a("10.0.0.2")));
        // wildcards of one family: shared
        assertTrue(PortSharing.competes(a("0.0.0.0"), false, a("0.0.0.0")));
        assertTrue(PortSharing.competes(a("::"), true, a("::")));
        assertTrue(PortSharing.competes(a("::"), true, a("fd00::1")));
        assertFalse(PortSharing.competes(a("fd00::1"), true, a("::")));
    }

    @Test
    void familiesScoreAsInTheKernel() throws Exception {
        // an IPv4 socket beats a dual-stack wildcard for IPv4: our IPv4 wildcard keeps it, a dual-stack one does not
        assertFalse(PortSharing.competes(a("0.0.0.0"), false, a("::")));
        assertTrue(PortSharing.competes(a("0.0.0.0"), true, a("::")));
        assertTrue(PortSharing.competes(a("0.0.0.0"), true, a("0.0.0.0")));
        // IPv4 sockets never see IPv6; IPv6 addresses never see IPv4
        assertFalse(PortSharing.competes(a("::"), true, a("0.0.0.0")));
        assertFalse(PortSharing.competes(a("0.0.0.0"), true, a("fd00::1")));
    }
}
