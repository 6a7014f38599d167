package org.nettyxdp.xsk;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sender {@link UdpFrameParser} reports for a received datagram: the right address, port and (for a
 * link-local IPv6 peer) scope, and, for a peer seen before, the same object again, so receiving
 * allocates nothing per datagram over IPv4 and IPv6 alike.
 */
class ReceivedSenderTest {
    private static final int FRAME = 4096;
    private static final long HOST_MAC = 0x02_00_00_00_00_01L;
    private static final long PEER_MAC = 0x02_00_00_00_00_02L;
    private static final int PORT = 7777;
    private static final int PEER_PORT = 5000;
    private static final int IFINDEX = 7;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment region = arena.allocate(FRAME, 4096);

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.9.0.2", "fd09::2", "fe80::2"})
    void aKnownSenderIsTheSameObjectAndCostsNoAllocation(String peerName) throws Exception {
        InetAddress peerAddress = InetAddress.getByName(peerName);
        boolean v4 = peerAddress.getAddress().length == 4;
        byte[] host = InetAddress.getByName(v4 ? "10.9.0.1" : peerName.startsWith("fe80") ? "fe80::1" : "fd09::1")
                .getAddress();
        byte[] peer = peerAddress.getAddress();
        int host4 = v4 ? XdpFastPath.toInt(host) : 0;
        int peer4 = v4 ? XdpFastPath.toInt(peer) : 0;
        UdpFrameWriter peerWriter = new UdpFrameWriter(PEER_PORT, peer4, v4 ? null : peer, PEER_MAC);
        long request = XdpPacket.XDP_PACKET_HEADROOM;
        int payload = 32;
        peerWriter.write(region, request, v4, new NextHops.Hop(HOST_MAC, host, peer, host4, peer4), PORT, payload, 0);
        int len = (v4 ? UdpFrameWriter.IPV4_HEADERS : UdpFrameWriter.IPV6_HEADERS) + payload;
        UdpFrameParser parser = new UdpFrameParser(PORT, host4, v4 ? null : host, v4, !v4, HOST_MAC, true, IFINDEX,
                false, () -> LocalAddresses.NONE);
        XdpPacket packet = new XdpPacket(region, FRAME);

        assertNull(parser.validate(packet.resetFromDescriptor(request, len, 0), RxChecksumPolicy.VERIFY));
        InetSocketAddress first = parser.sender();
        assertEquals(PEER_PORT, first.getPort());
        assertEquals(peerAddress, first.getAddress());
        if (peerName.startsWith("fe80")) {
            assertEquals(IFINDEX, ((Inet6Address) first.getAddress()).getScopeId(), "link-local: the interface's scope");
        }

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 50_000; i++) { // warm up: compiled, as on a busy loop
            parser.validate(packet.resetFromDescriptor(request, len, 0), RxChecksumPolicy.VERIFY);
        }
        int rounds = 100_000;
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < rounds; i++) {
            parser.validate(packet.resetFromDescriptor(request, len, 0), RxChecksumPolicy.VERIFY);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertSame(first, parser.sender(), "a known sender is not made again");
        // the two calls to the counter allocate a little themselves; a sender per datagram is ~100 B
        assertTrue(allocated < rounds / 10, allocated + " bytes allocated over " + rounds + " datagrams");
    }

    @Test
    void theIpv6CacheTellsSendersApartByAddressAndPort() {
        Ipv6SenderCache cache = new Ipv6SenderCache();
        InetSocketAddress a = new InetSocketAddress(1);
        InetSocketAddress b = new InetSocketAddress(2);
        cache.put(0xfd09_0000_0000_0000L, 2, 5000, a);
        assertSame(a, cache.get(0xfd09_0000_0000_0000L, 2, 5000));
        assertNull(cache.get(0xfd09_0000_0000_0000L, 2, 5001));
        assertNull(cache.get(0xfd09_0000_0000_0000L, 3, 5000));
        assertNull(cache.get(0xfd09_0000_0000_0001L, 2, 5000));
        cache.put(0xfd09_0000_0000_0000L, 2, 5001, b);
        assertSame(b, cache.get(0xfd09_0000_0000_0000L, 2, 5001));
    }
}
