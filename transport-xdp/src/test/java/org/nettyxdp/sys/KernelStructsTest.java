package org.nettyxdp.sys;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The layouts of {@code sys} against the kernel UAPI, for both supported architectures: the expected
 * numbers are the headers' (checked for x86_64 with {@code offsetof}/{@code sizeof} from gcc on the
 * headers named; aarch64 follows from the same headers' rules, as noted).
 */
class KernelStructsTest {
    /*
     * linux/eventpoll.h:
     *   #ifdef __x86_64__
     *   #define EPOLL_PACKED __attribute__((packed))
     *   ...
     *   struct epoll_event { __poll_t events; __u64 data; } EPOLL_PACKED;
     * packed on x86_64 only; elsewhere __u64 is 8-byte aligned, so data moves to 8 and the size to 16.
     */
    @Test
    void epollEventIsPackedOnX86_64() {
        StructLayout l = EpollEvent.layout(Arch.X86_64);
        assertEquals(12, l.byteSize());
        assertEquals(0, offset(l, "events"));
        assertEquals(4, offset(l, "data"));
    }

    @Test
    void epollEventIsNaturallyAlignedOnAarch64() {
        StructLayout l = EpollEvent.layout(Arch.AARCH64);
        assertEquals(16, l.byteSize());
        assertEquals(0, offset(l, "events"));
        assertEquals(8, offset(l, "data"));
    }

    @Test
    void theRunningArchitecturesEpollEventIsUsed() {
        assertEquals(EpollEvent.layout(Arch.current()), EpollEvent.LAYOUT);
        assertEquals(EpollEvent.LAYOUT.byteSize(), EpollEvent.SIZE);
    }

    /*
     * linux/in.h: struct sockaddr_in { __kernel_sa_family_t sin_family; __be16 sin_port;
     *   struct in_addr sin_addr; unsigned char __pad[8]; }  (sa_family_t is unsigned short everywhere)
     * linux/in6.h: struct sockaddr_in6 { unsigned short sin6_family; __be16 sin6_port;
     *   __be32 sin6_flowinfo; struct in6_addr sin6_addr; __u32 sin6_scope_id; }
     * Only 16- and 32-bit fields and byte arrays: the same on x86_64 and aarch64.
     */
    @Test
    void sockaddrIn() {
        StructLayout l = SockAddr.IN_LAYOUT;
        assertEquals(16, l.byteSize());
        assertEquals(16, SockAddr.IN_SIZE);
        assertEquals(0, offset(l, "sin_family"));
        assertEquals(2, offset(l, "sin_port"));
        assertEquals(4, offset(l, "sin_addr"));
        assertEquals(8, offset(l, "sin_zero"));
    }

    @Test
    void sockaddrIn6() {
        StructLayout l = SockAddr.IN6_LAYOUT;
        assertEquals(28, l.byteSize());
        assertEquals(28, SockAddr.IN6_SIZE);
        assertEquals(4, l.byteAlignment());
        assertEquals(0, offset(l, "sin6_family"));
        assertEquals(2, offset(l, "sin6_port"));
        assertEquals(4, offset(l, "sin6_flowinfo"));
        assertEquals(8, offset(l, "sin6_addr"));
        assertEquals(24, offset(l, "sin6_scope_id"));
    }

    /*
     * linux/in.h: struct ip_mreqn { struct in_addr imr_multiaddr; struct in_addr imr_address; int imr_ifindex; }
     * linux/in6.h: struct ipv6_mreq { struct in6_addr ipv6mr_multiaddr; int ipv6mr_ifindex; }
     * Addresses and int only: the same on x86_64 and aarch64.
     */
    @Test
    void multicastRequests() {
        StructLayout v4 = MulticastRequest.IP_MREQN;
        assertEquals(12, v4.byteSize());
        assertEquals(0, offset(v4, "imr_multiaddr"));
        assertEquals(4, offset(v4, "imr_address"));
        assertEquals(8, offset(v4, "imr_ifindex"));
        StructLayout v6 = MulticastRequest.IPV6_MREQ;
        assertEquals(20, v6.byteSize());
        assertEquals(0, offset(v6, "ipv6mr_multiaddr"));
        assertEquals(16, offset(v6, "ipv6mr_ifindex"));
    }

    private static long offset(MemoryLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }
}
