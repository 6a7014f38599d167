package org.nettyxdp.netlink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Test helper: loads {@code return XDP_PASS;} and attaches it with a bpf_link, straight through bpf(2). */
final class TinyXdpProgram implements AutoCloseable {
    private static final int BPF_PROG_LOAD = 5;
    private static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    private static final int BPF_LINK_CREATE = 28;
    private static final int BPF_PROG_TYPE_XDP = 6;
    private static final int BPF_XDP = 37;
    private static final int ATTR_SIZE = 128;

    final int progFd;
    final int progId;
    private int linkFd = -1;

    TinyXdpProgram() throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = arena.allocate(16, 8);
            insns.set(JAVA_LONG, 0, 0x0000_0002_0000_00b7L); // r0 = 2 (XDP_PASS)
            insns.set(JAVA_LONG, 8, 0x0000_0000_0000_0095L); // exit
            MemorySegment license = arena.allocateFrom("GPL");
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, BPF_PROG_TYPE_XDP);
            attr.set(JAVA_INT, 4, 2);
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, license.address());
            attr.set(JAVA_INT, 68, BPF_XDP);
            long fd = Syscalls.bpfRaw(BPF_PROG_LOAD, attr, ATTR_SIZE);
            if (fd < 0) {
                throw new SyscallException("bpf(BPF_PROG_LOAD)", (int) -fd);
            }
            progFd = (int) fd;
            MemorySegment info = arena.allocate(256, 8); // struct bpf_prog_info: type, id, ...
            MemorySegment q = arena.allocate(ATTR_SIZE, 8);
            q.set(JAVA_INT, 0, progFd);
            q.set(JAVA_INT, 4, (int) info.byteSize());
            q.set(JAVA_LONG, 8, info.address());
            long r = Syscalls.bpfRaw(BPF_OBJ_GET_INFO_BY_FD, q, ATTR_SIZE);
            if (r < 0) {
                Syscalls.close(progFd);
                throw new SyscallException("bpf(BPF_OBJ_GET_INFO_BY_FD)", (int) -r);
            }
            progId = info.get(JAVA_INT, 4);
        }
    }

    /** Attaches to {@code ifindex} of the calling thread's namespace; {@code xdpFlags} 0 lets the kernel pick. */
    void attach(int ifindex, int xdpFlags) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, BPF_XDP);
            attr.set(JAVA_INT, 12, xdpFlags);
            long fd = Syscalls.bpfRaw(BPF_LINK_CREATE, attr, ATTR_SIZE);
            if (fd < 0) {
                throw new SyscallException("bpf(BPF_LINK_CREATE)", (int) -fd);
            }
            linkFd = (int) fd;
        }
    }

    /** Detaches (closing the bpf_link) but keeps the program loaded. */
    void detach() {
        if (linkFd >= 0) {
            Syscalls.close(linkFd);
            linkFd = -1;
        }
    }

    @Override
    public void close() {
        detach();
        Syscalls.close(progFd);
    }
}
