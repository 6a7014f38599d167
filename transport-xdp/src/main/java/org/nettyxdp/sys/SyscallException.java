package org.nettyxdp.sys;

import java.io.IOException;

/**
 * A failed system call: names the call, the errno and, where one is known, what to do about it.
 */
public class SyscallException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        this(call, errno, null);
    }

    public SyscallException(String call, int errno, String detail) {
        super(message(call, errno, detail));
        this.call = call;
        this.errno = errno;
    }

    private static String message(String call, int errno, String detail) {
        StringBuilder sb = new StringBuilder(call).append(" failed: ").append(Errno.name(errno));
        String hint = Errno.hint(call, errno);
        if (hint != null) {
            sb.append(" (").append(hint).append(')');
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(": ").append(detail);
        }
        return sb.toString();
    }

    /** The call that failed, as named in the message. */
    public String call() {
        return call;
    }

    /** The errno the kernel returned. */
    public int errno() {
        return errno;
    }
}
