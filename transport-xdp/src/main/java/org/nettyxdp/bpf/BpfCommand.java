package org.nettyxdp.bpf;

/**
 * Numeric constants of the bpf(2) ABI ({@code include/uapi/linux/bpf.h}) that this package uses:
 * commands, map types, program types, attach types and flags.
 */
public final class BpfCommand {
    // enum bpf_cmd
    public static final int MAP_CREATE = 0;
    public static final int MAP_LOOKUP_ELEM = 1;
    public static final int MAP_UPDATE_ELEM = 2;
    public static final int MAP_DELETE_ELEM = 3;
    public static final int MAP_GET_NEXT_KEY = 4;
    public static final int PROG_LOAD = 5;
    public static final int PROG_TEST_RUN = 10;
    public static final int OBJ_GET_INFO_BY_FD = 15;
    public static final int LINK_CREATE = 28;
    public static final int LINK_DETACH = 34;

    // enum bpf_map_type
    public static final int MAP_TYPE_HASH = 1;
    public static final int MAP_TYPE_ARRAY = 2;
    public static final int MAP_TYPE_PROG_ARRAY = 3;
    public static final int MAP_TYPE_PERCPU_ARRAY = 6;
    public static final int MAP_TYPE_XSKMAP = 17;

    // enum bpf_prog_type
    public static final int PROG_TYPE_XDP = 6;

    // enum bpf_attach_type
    public static final int ATTACH_TYPE_XDP = 37;

    // map update flags
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;

    // prog_flags
    /** {@code BPF_F_XDP_HAS_FRAGS}: the XDP program understands multi-buffer frames. */
    public static final int F_XDP_HAS_FRAGS = 1 << 5;

    // XDP_FLAGS_* (link_create.flags for BPF_XDP)
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    /** {@code BPF_OBJ_NAME_LEN}: object names hold at most 15 characters plus the NUL. */
    public static final int OBJ_NAME_LEN = 16;

    /** {@code BPF_PSEUDO_MAP_FD}: src_reg of an {@code LD_IMM64} whose immediate is a map fd. */
    public static final int PSEUDO_MAP_FD = 1;

    // helper function ids (enum bpf_func_id)
    public static final int FN_MAP_LOOKUP_ELEM = 1;
    public static final int FN_TAIL_CALL = 12;
    public static final int FN_REDIRECT_MAP = 51;
    public static final int FN_XDP_GET_BUFF_LEN = 188;

    private BpfCommand() {
    }

    /** The command's name as in the UAPI, for error messages. */
    public static String name(int cmd) {
        return switch (cmd) {
            case MAP_CREATE -> "BPF_MAP_CREATE";
            case MAP_LOOKUP_ELEM -> "BPF_MAP_LOOKUP_ELEM";
            case MAP_UPDATE_ELEM -> "BPF_MAP_UPDATE_ELEM";
            case MAP_DELETE_ELEM -> "BPF_MAP_DELETE_ELEM";
            case MAP_GET_NEXT_KEY -> "BPF_MAP_GET_NEXT_KEY";
            case PROG_LOAD -> "BPF_PROG_LOAD";
            case PROG_TEST_RUN -> "BPF_PROG_TEST_RUN";
            case OBJ_GET_INFO_BY_FD -> "BPF_OBJ_GET_INFO_BY_FD";
            case LINK_CREATE -> "BPF_LINK_CREATE";
            case LINK_DETACH -> "BPF_LINK_DETACH";
            default -> "bpf cmd " + cmd;
        };
    }
}
