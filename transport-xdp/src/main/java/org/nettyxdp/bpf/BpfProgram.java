package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A loaded BPF program, owned through its file descriptor. {@link #load} runs the verifier; when it
 * refuses, the load is repeated with a verifier log and the {@link BpfException} carries the log.
 * Attach XDP programs with {@link XdpLink#attach}.
 */
public final class BpfProgram extends BpfFd {
    /** Size of the verifier log buffer used on the retry after a failed load. */
    public static final int LOG_SIZE = 1 << 20;

    private final String name;
    private final int type;
    private final int flags;
    private final int insnCount;

    private BpfProgram(int fd, String name, int type, int flags, int insnCount) {
        super(fd);
        this.name = name;
        this.type = type;
        this.flags = flags;
        this.insnCount = insnCount;
    }

    /**
     * Loads an XDP program, ready for {@link XdpLink} ({@code expected_attach_type = BPF_XDP}).
     *
     * @param frags whether to set {@code BPF_F_XDP_HAS_FRAGS} (the program handles multi-buffer frames)
     */
    public static BpfProgram loadXdp(long[] insns, String name, boolean frags) throws BpfException {
        return load(BpfCommand.PROG_TYPE_XDP, insns, "GPL", frags ? BpfCommand.F_XDP_HAS_FRAGS : 0, name);
    }

    /**
     * Loads a program with {@code BPF_PROG_LOAD}. XDP programs get {@code expected_attach_type = BPF_XDP}.
     *
     * @param type    a {@code BpfCommand.PROG_TYPE_*} constant
     * @param insns   encoded instructions, e.g. from {@link BpfAssembler#build()}
     * @param license the license string; GPL-only helpers need {@code "GPL"}
     * @param flags   {@code prog_flags}, e.g. {@link BpfCommand#F_XDP_HAS_FRAGS}
     * @param name    the name bpftool shows; cut to 15 characters of {@code [A-Za-z0-9_.]}
     * @throws BpfException naming the program; if the verifier refused it, with its log
     */
    public static BpfProgram load(int type, long[] insns, String license, int flags, String name)
            throws BpfException {
        if (insns.length == 0) {
            throw new IllegalArgumentException("empty program " + name);
        }
        String objName = BpfAttr.objName(name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = BpfAssembler.toSegment(insns, arena);
            MemorySegment lic = arena.allocateFrom(license);
            MemorySegment attr = BpfAttr.allocate(arena);
            attr.set(JAVA_INT, BpfAttr.PROG_TYPE, type);
            attr.set(JAVA_INT, BpfAttr.INSN_CNT, insns.length);
            attr.set(JAVA_LONG, BpfAttr.INSNS, code.address());
            attr.set(JAVA_LONG, BpfAttr.LICENSE, lic.address());
            attr.set(JAVA_INT, BpfAttr.PROG_FLAGS, flags);
            BpfAttr.putName(attr, BpfAttr.PROG_NAME, objName);
            if (type == BpfCommand.PROG_TYPE_XDP) {
                attr.set(JAVA_INT, BpfAttr.EXPECTED_ATTACH_TYPE, BpfCommand.ATTACH_TYPE_XDP);
            }
            long r = Syscalls.bpfRaw(BpfCommand.PROG_LOAD, attr, BpfAttr.SIZE);
            if (r < 0 && r != -Errno.EPERM) {
                // Second attempt with the verifier log, so the error can say why.
                MemorySegment log = arena.allocate(LOG_SIZE);
                attr.set(JAVA_INT, BpfAttr.LOG_LEVEL, 1);
                attr.set(JAVA_INT, BpfAttr.LOG_SIZE, LOG_SIZE);
                attr.set(JAVA_LONG, BpfAttr.LOG_BUF, log.address());
                long retry = Syscalls.bpfRaw(BpfCommand.PROG_LOAD, attr, BpfAttr.SIZE);
                if (retry >= 0) {
                    r = retry;
                } else {
                    String text = log.getString(0, StandardCharsets.UTF_8).strip();
                    throw new BpfException(BpfAttr.callName(BpfCommand.PROG_LOAD, objName), (int) -retry,
                            loadHint((int) -retry),
                            text.isEmpty() ? null : "verifier log (" + insns.length + " insns):\n" + text);
                }
            }
            if (r < 0) {
                throw new BpfException(BpfAttr.callName(BpfCommand.PROG_LOAD, objName), (int) -r, null, null);
            }
            return new BpfProgram((int) r, objName, type, flags, insns.length);
        }
    }

    private static String loadHint(int errno) {
        return switch (errno) {
            case Errno.EACCES -> "the verifier rejected the program";
            case Errno.EINVAL -> "invalid program or attributes (see the verifier log)";
            case Errno.ENOSPC -> "the verifier log did not fit in " + LOG_SIZE + " bytes";
            default -> null;
        };
    }


    /** The (sanitised) name the program was loaded with. */
    public String name() {
        return name;
    }

    /** The {@code BPF_PROG_TYPE_*} of the program. */
    public int type() {
        return type;
    }

    /** The {@code prog_flags} it was loaded with. */
    public int flags() {
        return flags;
    }

    /** Whether it was loaded with {@code BPF_F_XDP_HAS_FRAGS}. */
    public boolean hasFrags() {
        return (flags & BpfCommand.F_XDP_HAS_FRAGS) != 0;
    }

    /** Number of instructions loaded. */
    public int insnCount() {
        return insnCount;
    }

    @Override
    String describe() {
        return "BPF program " + name;
    }

    /** Closes the fd; idempotent. An attached program stays alive while its link exists. */
    @Override
    public void close() {
        super.close();
    }

    @Override
    public String toString() {
        return "BpfProgram[" + name + ", fd=" + rawFd() + ", " + insnCount + " insns" + closedSuffix()
                + "]";
    }
}
