package org.nettyxdp.sys;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyscallsTest {
    @Test
    void structSizesMatchTheKernel() {
        assertEquals(12, EpollEvent.SIZE, "struct epoll_event is packed on x86_64");
        assertEquals(16, SockAddr.IN_SIZE);
        assertEquals(28, SockAddr.IN6_SIZE);
    }

    @Test
    void unknownInterfaceNamesTheCallTheErrnoAndTheHint() {
        SyscallException e = assertThrows(SyscallException.class, () -> Syscalls.ifNameToIndex("nxnope0"));
        assertEquals(Errno.ENODEV, e.errno());
        assertTrue(e.getMessage().startsWith("if_nametoindex failed: ENODEV (no such network interface)"), e.getMessage());
        assertTrue(e.getMessage().contains("nxnope0"), e.getMessage());
    }

    @Test
    void failedCallsCaptureErrnoOfTheirOwnThread() throws Exception {
        int fd = Syscalls.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(SockAddr.STORAGE_SIZE);
            int len = SockAddr.write(sa, new InetSocketAddress(InetAddress.getByName("10.255.254.253"), 0), false);
            SyscallException e = assertThrows(SyscallException.class, () -> Syscalls.bind(fd, sa, len, "UDP test"));
            assertEquals(Errno.EADDRNOTAVAIL, e.errno());
            assertEquals("bind(UDP test)", e.call());
            assertTrue(e.getMessage().contains("not configured on any interface"), e.getMessage());
        } finally {
            Syscalls.close(fd);
        }
        assertEquals(-Errno.EBADF, Syscalls.close(fd), "closing twice reports EBADF as -errno");
    }

    @Test
    void permissionErrorsSayWhatIsNeeded() {
        SyscallException e = new SyscallException("bpf(BPF_MAP_CREATE)", Errno.EPERM);
        assertTrue(e.getMessage().contains("needs root, or CAP_NET_ADMIN + CAP_BPF"), e.getMessage());
    }

    @Test
    void socketAddressesRoundTrip() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(SockAddr.STORAGE_SIZE);
            InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 4242);
            SockAddr.write(sa, v4, false);
            assertEquals(v4, SockAddr.read(sa));
            SockAddr.write(sa, v4, true);
            assertEquals(v4, SockAddr.read(sa), "IPv4-mapped IPv6 reads back as IPv4");
            InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("fd00::1"), 9);
            SockAddr.write(sa, v6, true);
            assertEquals(v6, SockAddr.read(sa));
        }
    }
}
