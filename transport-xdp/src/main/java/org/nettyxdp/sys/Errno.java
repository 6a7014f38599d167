package org.nettyxdp.sys;

/**
 * Linux errno values this transport meets, their symbolic names and, where one helps, a hint that
 * says what the user can do about them.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int ENOTSOCK = 88;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int EMSGSIZE = 90;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ENOBUFS = 105;
    public static final int ENOTCONN = 107;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;

    private Errno() {
    }

    /** The symbolic name of {@code errno}, such as {@code "EPERM"}, or {@code "errno N"} if unknown. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case ESRCH -> "ESRCH";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case E2BIG -> "E2BIG";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case ENFILE -> "ENFILE";
            case EMFILE -> "EMFILE";
            case ENOSPC -> "ENOSPC";
            case ENOTSOCK -> "ENOTSOCK";
            case ERANGE -> "ERANGE";
            case ENOSYS -> "ENOSYS";
            case EMSGSIZE -> "EMSGSIZE";
            case ENOPROTOOPT -> "ENOPROTOOPT";
            case EPROTONOSUPPORT -> "EPROTONOSUPPORT";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EAFNOSUPPORT -> "EAFNOSUPPORT";
            case EADDRINUSE -> "EADDRINUSE";
            case EADDRNOTAVAIL -> "EADDRNOTAVAIL";
            case ENETDOWN -> "ENETDOWN";
            case ENETUNREACH -> "ENETUNREACH";
            case ENOBUFS -> "ENOBUFS";
            case ENOTCONN -> "ENOTCONN";
            case ECONNREFUSED -> "ECONNREFUSED";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            default -> "errno " + errno;
        };
    }

    /** A short description of what {@code errno} usually means for {@code call}, or {@code null}. */
    static String hint(String call, int errno) {
        return switch (errno) {
            case EPERM, EACCES -> "needs root, or CAP_NET_ADMIN + CAP_BPF + CAP_PERFMON + CAP_NET_RAW"
                    + " (and CAP_IPC_LOCK for UMEMs above RLIMIT_MEMLOCK)";
            case EBUSY -> call.startsWith("bind(AF_XDP")
                    ? "the queue already has an AF_XDP socket (another process, or one closed moments ago)"
                    : "resource busy";
            case ENOBUFS -> call.startsWith("setsockopt(XDP_UMEM_REG")
                    ? "UMEM larger than RLIMIT_MEMLOCK allows: run as root or grant CAP_IPC_LOCK"
                    : null;
            case ENODEV -> "no such network interface";
            case EOPNOTSUPP -> "not supported by this device or driver (try generic/SKB XDP mode or copy mode)";
            case EADDRINUSE -> "the address and port are already in use";
            case EADDRNOTAVAIL -> "the address is not configured on any interface of this host";
            case ENOSYS -> "the kernel lacks this system call";
            default -> null;
        };
    }
}
