package org.nettyxdp.sys;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc system calls this transport uses, bound with the FFM API.
 *
 * <p>Every call captures {@code errno} through {@link Linker.Option#captureCallState}. The plain methods
 * throw {@link SyscallException} on failure; the {@code ...Raw} variants, meant for the hot path where
 * failures such as {@code EAGAIN} are routine, return {@code -errno} instead and allocate nothing.
 *
 * <p>Calls go through libc's wrappers, not raw system call numbers, so they are portable across
 * {@link Arch}es: glibc maps each to the architecture's table (aarch64, for one, has no
 * {@code epoll_wait}, {@code open}, {@code poll} or {@code eventfd} system calls; glibc's wrappers use
 * {@code epoll_pwait}, {@code openat}, {@code ppoll} and {@code eventfd2} there). The only raw number
 * is {@code bpf(2)}'s, which libc does not wrap: {@link Linux#SYS_BPF}, taken from {@link Arch#current()}.
 */
public final class Syscalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    /** {@code void*} that may be dereferenced up to {@code Long.MAX_VALUE} bytes (callers reinterpret). */
    private static final AddressLayout PTR = ADDRESS;

    private static final MethodHandle SOCKET = errnoCall("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle BIND = errnoCall("bind", JAVA_INT, JAVA_INT, PTR, JAVA_INT);
    private static final MethodHandle CONNECT = errnoCall("connect", JAVA_INT, JAVA_INT, PTR, JAVA_INT);
    private static final MethodHandle GETSOCKNAME = errnoCall("getsockname", JAVA_INT, JAVA_INT, PTR, PTR);
    private static final MethodHandle SETSOCKOPT =
            errnoCall("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, PTR, JAVA_INT);
    private static final MethodHandle GETSOCKOPT =
            errnoCall("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, PTR, PTR);
    private static final MethodHandle SENDTO =
            errnoCall("sendto", JAVA_LONG, JAVA_INT, PTR, JAVA_LONG, JAVA_INT, PTR, JAVA_INT);
    private static final MethodHandle RECVFROM =
            errnoCall("recvfrom", JAVA_LONG, JAVA_INT, PTR, JAVA_LONG, JAVA_INT, PTR, PTR);
    private static final MethodHandle CLOSE = errnoCall("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle READ = errnoCall("read", JAVA_LONG, JAVA_INT, PTR, JAVA_LONG);
    private static final MethodHandle WRITE = errnoCall("write", JAVA_LONG, JAVA_INT, PTR, JAVA_LONG);
    private static final MethodHandle OPEN = errnoCall("open", JAVA_INT, PTR, JAVA_INT);
    private static final MethodHandle MMAP =
            errnoCall("mmap", PTR, PTR, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle MUNMAP = errnoCall("munmap", JAVA_INT, PTR, JAVA_LONG);
    private static final MethodHandle EPOLL_CREATE1 = errnoCall("epoll_create1", JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CTL = errnoCall("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, PTR);
    private static final MethodHandle EPOLL_WAIT = errnoCall("epoll_wait", JAVA_INT, JAVA_INT, PTR, JAVA_INT, JAVA_INT);
    private static final MethodHandle EVENTFD = errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle IF_NAMETOINDEX = errnoCall("if_nametoindex", JAVA_INT, PTR);
    private static final MethodHandle SETNS = errnoCall("setns", JAVA_INT, JAVA_INT, JAVA_INT);
    /** {@code long syscall(long number, ...)} with three variadic arguments, as bpf(2) takes them. */
    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(
            LIBC.find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, PTR, JAVA_INT),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private Syscalls() {
    }

    private static MethodHandle errnoCall(String name, MemoryLayout ret, MemoryLayout... args) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new LinkageError("libc lacks " + name)),
                FunctionDescriptor.of(ret, args), Linker.Option.captureCallState("errno"));
    }

    private static MemorySegment state() {
        return CAPTURE.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    private static int check(String call, int result, MemorySegment state) throws SyscallException {
        if (result < 0) {
            throw new SyscallException(call, errno(state));
        }
        return result;
    }

    private static long check(String call, long result, MemorySegment state) throws SyscallException {
        if (result < 0) {
            throw new SyscallException(call, errno(state));
        }
        return result;
    }

    private static int raw(int result, MemorySegment state) {
        return result < 0 ? -errno(state) : result;
    }

    private static long raw(long result, MemorySegment state) {
        return result < 0 ? -errno(state) : result;
    }

    /** socket(2). */
    public static int socket(int domain, int type, int protocol) throws SyscallException {
        MemorySegment st = state();
        try {
            return check("socket(" + domain + ", " + type + ", " + protocol + ")",
                    (int) SOCKET.invokeExact(st, domain, type, protocol), st);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bind(2); {@code what} names the socket kind in the error, e.g. {@code "AF_XDP"}. */
    public static void bind(int fd, MemorySegment addr, int len, String what) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) BIND.invokeExact(st, fd, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("bind(" + what + ")", r, st);
    }

    /** connect(2). */
    public static void connect(int fd, MemorySegment addr, int len) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) CONNECT.invokeExact(st, fd, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("connect", r, st);
    }

    /** getsockname(2): fills {@code addr}, whose capacity is in the int at {@code lenPtr}. */
    public static void getsockname(int fd, MemorySegment addr, MemorySegment lenPtr) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) GETSOCKNAME.invokeExact(st, fd, addr, lenPtr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("getsockname", r, st);
    }

    /** setsockopt(2); {@code name} names the option in the error. */
    public static void setsockopt(int fd, int level, int option, MemorySegment value, int len, String name)
            throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) SETSOCKOPT.invokeExact(st, fd, level, option, value, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("setsockopt(" + name + ")", r, st);
    }

    /** setsockopt(2) of one {@code int}. */
    public static void setsockopt(int fd, int level, int option, int value, String name) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(JAVA_INT, value);
            setsockopt(fd, level, option, v, 4, name);
        }
    }

    /**
     * getsockopt(2) into {@code value}; returns the length the kernel wrote.
     */
    public static int getsockopt(int fd, int level, int option, MemorySegment value, String name)
            throws SyscallException {
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) value.byteSize());
            int r;
            try {
                r = (int) GETSOCKOPT.invokeExact(st, fd, level, option, value, len);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check("getsockopt(" + name + ")", r, st);
            return len.get(JAVA_INT, 0);
        }
    }

    /** getsockopt(2) of one {@code int}. */
    public static int getsockoptInt(int fd, int level, int option, String name) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            getsockopt(fd, level, option, v, name);
            return v.get(JAVA_INT, 0);
        }
    }

    /** sendto(2); returns bytes sent or {@code -errno}. Pass {@link MemorySegment#NULL} for no address. */
    public static long sendtoRaw(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, int addrLen) {
        MemorySegment st = state();
        try {
            return raw((long) SENDTO.invokeExact(st, fd, buf, len, flags, addr, addrLen), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recvfrom(2); returns bytes received or {@code -errno}. {@code addrLenPtr} holds the capacity. */
    public static long recvfromRaw(int fd, MemorySegment buf, long len, int flags, MemorySegment addr,
                                   MemorySegment addrLenPtr) {
        MemorySegment st = state();
        try {
            return raw((long) RECVFROM.invokeExact(st, fd, buf, len, flags, addr, addrLenPtr), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2); errors are returned as {@code -errno} since there is nothing useful to do about them. */
    public static int close(int fd) {
        MemorySegment st = state();
        try {
            return raw((int) CLOSE.invokeExact(st, fd), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2); returns bytes read or {@code -errno}. */
    public static long readRaw(int fd, MemorySegment buf, long len) {
        MemorySegment st = state();
        try {
            return raw((long) READ.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2); returns bytes written or {@code -errno}. */
    public static long writeRaw(int fd, MemorySegment buf, long len) {
        MemorySegment st = state();
        try {
            return raw((long) WRITE.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(2) of a path, e.g. a network namespace file. */
    public static int open(String path, int flags) throws SyscallException {
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            int r;
            try {
                r = (int) OPEN.invokeExact(st, arena.allocateFrom(path), flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (r < 0) {
                throw new SyscallException("open", errno(st), path);
            }
            return r;
        }
    }

    /** mmap(2) of a socket region; the result is sized to {@code length}. */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, String what)
            throws SyscallException {
        MemorySegment st = state();
        MemorySegment r;
        try {
            r = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r.address() == -1L) {
            throw new SyscallException("mmap(" + what + ")", errno(st));
        }
        return r.reinterpret(length);
    }

    /** munmap(2). */
    public static void munmap(MemorySegment region) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) MUNMAP.invokeExact(st, region, region.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("munmap", r, st);
    }

    /** epoll_create1(2). */
    public static int epollCreate() throws SyscallException {
        MemorySegment st = state();
        try {
            return check("epoll_create1", (int) EPOLL_CREATE1.invokeExact(st, Linux.EPOLL_CLOEXEC), st);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_ctl(2) with one {@code struct epoll_event} (see {@link EpollEvent}). */
    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("epoll_ctl", r, st);
    }

    /** epoll_wait(2); returns the number of events or {@code -errno}. */
    public static int epollWaitRaw(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        MemorySegment st = state();
        try {
            return raw((int) EPOLL_WAIT.invokeExact(st, epfd, events, maxEvents, timeoutMillis), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(2). */
    public static int eventfd(int initial, int flags) throws SyscallException {
        MemorySegment st = state();
        try {
            return check("eventfd", (int) EVENTFD.invokeExact(st, initial, flags), st);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** if_nametoindex(3); throws with {@code ENODEV} when there is no such interface. */
    public static int ifNameToIndex(String name) throws SyscallException {
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            int r;
            try {
                r = (int) IF_NAMETOINDEX.invokeExact(st, arena.allocateFrom(name));
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (r == 0) {
                int errno = errno(st);
                throw new SyscallException("if_nametoindex", errno == 0 ? Errno.ENODEV : errno, name);
            }
            return r;
        }
    }

    /** setns(2): moves the calling thread into the namespace behind {@code fd}. */
    public static void setns(int fd, int nsType) throws SyscallException {
        MemorySegment st = state();
        int r;
        try {
            r = (int) SETNS.invokeExact(st, fd, nsType);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("setns", r, st);
    }

    /** bpf(2) through {@code syscall(SYS_bpf, cmd, attr, size)}; returns the result or {@code -errno}. */
    public static long bpfRaw(int cmd, MemorySegment attr, int size) {
        MemorySegment st = state();
        try {
            return raw((long) SYSCALL3.invokeExact(st, (long) Linux.SYS_BPF, cmd, attr, size), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
