package org.nettyxdp.sys;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyscallsTest {
    @Test
    void epollEventsComeBackFromTheKernelWithTheirData() throws Exception {
        int ep = Syscalls.epollCreate();
        int a = Syscalls.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
        int b = Syscalls.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(EpollEvent.LAYOUT);
            EpollEvent.set(e, Linux.EPOLLIN, 0x1122334455667788L);
            Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, a, e);
            EpollEvent.set(e, Linux.EPOLLIN | Linux.EPOLLOUT, -2L);
            Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, b, e);
            MemorySegment one = arena.allocateFrom(JAVA_LONG, 1);
            assertEquals(8, Syscalls.writeRaw(a, one, 8));

            // both descriptors are writable, only a is readable: two events, in an array of the layout's stride
            MemorySegment events = arena.allocate(EpollEvent.SIZE * 4, 8);
            assertEquals(2, Syscalls.epollWaitRaw(ep, events, 4, 0));
            long seen = 0;
            for (int i = 0; i < 2; i++) {
                long data = EpollEvent.data(events, i);
                int ev = EpollEvent.events(events, i);
                if (data == 0x1122334455667788L) {
                    assertEquals(Linux.EPOLLIN, ev & (Linux.EPOLLIN | Linux.EPOLLOUT), "a registered for EPOLLIN only");
                    seen |= 1;
                } else {
                    assertEquals(-2L, data);
                    assertEquals(Linux.EPOLLOUT, ev & (Linux.EPOLLIN | Linux.EPOLLOUT), "b is only writable");
                    seen |= 2;
                }
            }
            assertEquals(3, seen, "one event for each descriptor");
        } finally {
            Syscalls.close(a);
            Syscalls.close(b);
            Syscalls.close(ep);
        }
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
