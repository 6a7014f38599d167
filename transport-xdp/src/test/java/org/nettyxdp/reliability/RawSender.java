package org.nettyxdp.reliability;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Sends arbitrary Ethernet frames out of one interface through an {@code AF_PACKET}/{@code SOCK_RAW}
 * socket (protocol 0: the socket receives nothing). Open it on a thread inside the namespace that
 * owns the interface. Not thread-safe.
 */
final class RawSender implements AutoCloseable {
    private static final int SOCKADDR_LL = 20;
    private static final int MAX_FRAME = 65536;

    private final Arena arena = Arena.ofConfined();
    private final int fd;
    private final MemorySegment addr;
    private final MemorySegment buf;

    /** Opens the socket on interface {@code ifname}; every frame goes to the device as given. */
    RawSender(String ifname) throws SyscallException {
        int ifindex = Syscalls.ifNameToIndex(ifname);
        this.fd = Syscalls.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
        this.addr = arena.allocate(SOCKADDR_LL, 8);
        addr.set(JAVA_SHORT, 0, (short) Linux.AF_PACKET);  // sll_family
        addr.set(JAVA_SHORT, 2, (short) 0);                // sll_protocol 0: the kernel parses the header
        addr.set(JAVA_INT, 4, ifindex);                    // sll_ifindex
        addr.set(JAVA_BYTE, 11, (byte) 6);                 // sll_halen
        this.buf = arena.allocate(MAX_FRAME, 64);
    }

    /**
     * Sends one frame; returns 0 on success or the errno. Retries while the device queue is full
     * (ENOBUFS/EAGAIN), so a frame that returns 0 went out.
     */
    int send(byte[] frame) {
        return send(frame, 1000);
    }

    /** Sends one frame, retrying up to {@code retries} times while the device reports it full. */
    int send(byte[] frame, int retries) {
        MemorySegment.copy(frame, 0, buf, JAVA_BYTE, 0, frame.length);
        for (int attempt = 0; ; attempt++) {
            long r = Syscalls.sendtoRaw(fd, buf, frame.length, 0, addr, SOCKADDR_LL);
            if (r >= 0) {
                return 0;
            }
            int errno = (int) -r;
            if ((errno != Errno.ENOBUFS && errno != Errno.EAGAIN) || attempt >= retries) {
                return errno;
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public void close() {
        Syscalls.close(fd);
        arena.close();
    }
}
