package org.nettyxdp.bpf;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;

/**
 * A failed bpf(2) command. It is a {@link SyscallException} (same {@link #call()} and
 * {@link #errno()}), but its message carries a BPF-specific hint instead of the generic one — for
 * example {@code EACCES} from {@code BPF_PROG_LOAD} means the verifier refused the program, not a
 * missing privilege — and the verifier log where there is one.
 */
public final class BpfException extends SyscallException {
    private static final long serialVersionUID = 1L;
    private static final int ENOTSOCK = 88;
    private static final int ENOTSUPP = 524;

    private final String message;

    /**
     * @param call   what failed, e.g. {@code "bpf(BPF_MAP_CREATE nx_ports)"}
     * @param errno  the errno returned by the kernel
     * @param hint   what it means and what to do, or {@code null} for the default for {@code errno}
     * @param detail extra text appended after the hint (e.g. a verifier log), or {@code null}
     */
    public BpfException(String call, int errno, String hint, String detail) {
        super(call, errno, detail);
        StringBuilder sb = new StringBuilder(call).append(" failed: ").append(errnoName(errno));
        String h = hint != null ? hint : defaultHint(errno);
        if (h != null) {
            sb.append(" (").append(h).append(')');
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(": ").append(detail);
        }
        this.message = sb.toString();
    }

    @Override
    public String getMessage() {
        return message;
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case ENOTSOCK -> "ENOTSOCK";
            case ENOTSUPP -> "ENOTSUPP";
            default -> Errno.name(errno);
        };
    }

    private static String defaultHint(int errno) {
        return switch (errno) {
            case Errno.EPERM -> "needs root, or CAP_BPF + CAP_NET_ADMIN";
            case Errno.ENOSYS -> "the kernel lacks bpf(2) (CONFIG_BPF_SYSCALL)";
            case Errno.E2BIG -> "the kernel does not know a field this call set (kernel too old?)";
            case Errno.ENOMEM -> "out of memory, or the memory cgroup / RLIMIT_MEMLOCK limit was hit";
            case Errno.EBADF -> "bad file descriptor (already closed?)";
            default -> null;
        };
    }
}
