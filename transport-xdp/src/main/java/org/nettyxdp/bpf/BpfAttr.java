package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Builds {@code union bpf_attr} blocks and issues bpf(2) with them. Every block is zeroed (the
 * kernel insists that fields it does not use are zero) and {@link #SIZE} bytes long; offsets are
 * those of {@code include/uapi/linux/bpf.h}.
 */
public final class BpfAttr {
    /** Bytes passed as the attr size: covers every field this package sets. */
    public static final int SIZE = 128;

    // BPF_MAP_CREATE
    static final long MAP_TYPE = 0;
    static final long KEY_SIZE = 4;
    static final long VALUE_SIZE = 8;
    static final long MAX_ENTRIES = 12;
    static final long MAP_FLAGS = 16;
    static final long MAP_NAME = 28;
    // BPF_MAP_*_ELEM
    static final long ELEM_MAP_FD = 0;
    static final long ELEM_KEY = 8;
    static final long ELEM_VALUE = 16;
    static final long ELEM_FLAGS = 24;
    // BPF_PROG_LOAD
    static final long PROG_TYPE = 0;
    static final long INSN_CNT = 4;
    static final long INSNS = 8;
    static final long LICENSE = 16;
    static final long LOG_LEVEL = 24;
    static final long LOG_SIZE = 28;
    static final long LOG_BUF = 32;
    static final long PROG_FLAGS = 44;
    static final long PROG_NAME = 48;
    static final long EXPECTED_ATTACH_TYPE = 68;
    // BPF_LINK_CREATE
    static final long LINK_PROG_FD = 0;
    static final long LINK_TARGET_IFINDEX = 4;
    static final long LINK_ATTACH_TYPE = 8;
    static final long LINK_FLAGS = 12;
    // BPF_LINK_DETACH
    static final long DETACH_LINK_FD = 0;

    private BpfAttr() {
    }

    /** A zeroed attr block in {@code arena}. */
    public static MemorySegment allocate(Arena arena) {
        return arena.allocate(SIZE, 8);
    }

    /**
     * Runs bpf({@code cmd}, attr) and returns its result.
     *
     * @param what names the object in the error, e.g. the map name
     * @param hint a command-specific hint for the error, or {@code null}
     * @throws BpfException on failure, naming the command, {@code what} and the errno
     */
    public static long call(int cmd, MemorySegment attr, String what, HintFn hint) throws BpfException {
        long r = Syscalls.bpfRaw(cmd, attr, SIZE);
        if (r < 0) {
            int errno = (int) -r;
            throw new BpfException(callName(cmd, what), errno, hint == null ? null : hint.hint(errno), null);
        }
        return r;
    }

    /** {@code bpf(CMD what)} as errors name a command. */
    static String callName(int cmd, String what) {
        return "bpf(" + BpfCommand.name(cmd) + (what == null || what.isEmpty() ? "" : " " + what) + ")";
    }

    /** Maps an errno to a hint for one call site; returns {@code null} for the default. */
    @FunctionalInterface
    public interface HintFn {
        /** The hint for {@code errno}, or {@code null}. */
        String hint(int errno);
    }

    /**
     * Writes {@code name} as a {@code BPF_OBJ_NAME_LEN} object name at {@code offset}: the kernel
     * accepts only letters, digits, {@code '_'} and {@code '.'}, 15 at most; others become {@code '_'}.
     */
    static void putName(MemorySegment attr, long offset, String name) {
        String n = objName(name);
        for (int i = 0; i < n.length(); i++) {
            attr.set(JAVA_BYTE, offset + i, (byte) n.charAt(i));
        }
    }

    /** {@code name} cut to 15 characters with characters the kernel refuses replaced by {@code '_'}. */
    public static String objName(String name) {
        StringBuilder sb = new StringBuilder(BpfCommand.OBJ_NAME_LEN - 1);
        for (int i = 0; i < name.length() && sb.length() < BpfCommand.OBJ_NAME_LEN - 1; i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.';
            sb.append(ok ? c : '_');
        }
        return sb.toString();
    }
}
