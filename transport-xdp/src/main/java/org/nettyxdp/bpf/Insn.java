package org.nettyxdp.bpf;

/**
 * One 8-byte eBPF instruction ({@code struct bpf_insn}): opcode, destination and source register,
 * signed 16-bit offset and signed 32-bit immediate. {@link #encode()} packs it the way a
 * little-endian host (x86_64, aarch64) lays it out in memory.
 *
 * @param code opcode byte (class | size/op | mode/source)
 * @param dst  destination register number, 0..10
 * @param src  source register number, 0..10 (or a pseudo source such as {@code BPF_PSEUDO_MAP_FD})
 * @param off  signed 16-bit offset
 * @param imm  signed 32-bit immediate
 */
public record Insn(int code, int dst, int src, int off, int imm) {
    // instruction classes
    public static final int CLASS_LD = 0x00;
    public static final int CLASS_LDX = 0x01;
    public static final int CLASS_ST = 0x02;
    public static final int CLASS_STX = 0x03;
    public static final int CLASS_ALU = 0x04;
    public static final int CLASS_JMP = 0x05;
    public static final int CLASS_JMP32 = 0x06;
    public static final int CLASS_ALU64 = 0x07;
    // modes
    public static final int MODE_IMM = 0x00;
    public static final int MODE_MEM = 0x60;
    // sources
    public static final int SRC_K = 0x00;
    public static final int SRC_X = 0x08;
    // jump-class ops that are not conditions
    public static final int OP_JA = 0x00;
    public static final int OP_CALL = 0x80;
    public static final int OP_EXIT = 0x90;
    // endianness conversion
    public static final int OP_END = 0xd0;
    public static final int END_TO_LE = 0x00;
    public static final int END_TO_BE = 0x08;

    /** Validates the field ranges. */
    public Insn {
        if ((code & ~0xff) != 0) {
            throw new IllegalArgumentException("opcode out of range: " + code);
        }
        if ((dst & ~0xf) != 0 || (src & ~0xf) != 0) {
            throw new IllegalArgumentException("register out of range: dst=" + dst + " src=" + src);
        }
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("offset out of 16-bit range: " + off);
        }
    }

    /** The instruction as the 64-bit little-endian word the kernel reads. */
    public long encode() {
        return (code & 0xffL)
                | (long) (dst & 0xf) << 8
                | (long) (src & 0xf) << 12
                | (off & 0xffffL) << 16
                | (imm & 0xffffffffL) << 32;
    }

    /** Decodes a word produced by {@link #encode()}. */
    public static Insn decode(long word) {
        return new Insn((int) (word & 0xff), (int) (word >>> 8) & 0xf, (int) (word >>> 12) & 0xf,
                (short) (word >>> 16), (int) (word >>> 32));
    }

    @Override
    public String toString() {
        return String.format("{code=0x%02x dst=r%d src=r%d off=%d imm=%d}", code, dst, src, off, imm);
    }
}
