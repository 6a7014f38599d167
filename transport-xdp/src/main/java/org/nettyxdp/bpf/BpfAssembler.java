package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A typed eBPF assembler with labels. Instructions are appended in order; jumps name a label that
 * may be defined before (backward jump) or after (forward jump) them, and {@link #build()} resolves
 * every jump to its 16-bit relative offset, failing on an unknown label or an offset out of range.
 *
 * <pre>{@code
 * BpfAssembler a = new BpfAssembler();
 * a.ldx(MemSize.W, Reg.R2, Reg.R1, 0)          // r2 = ctx->data
 *  .jmp(JmpOp.EQ, Reg.R2, 0, "out")
 *  .mov64(Reg.R0, 1)
 *  .exit()
 *  .label("out")
 *  .mov64(Reg.R0, 2)
 *  .exit();
 * long[] insns = a.build();
 * }</pre>
 *
 * <p>Not thread-safe. {@code LD_IMM64} occupies two instruction slots, which jump offsets account for.
 */
public final class BpfAssembler {
    private final List<Insn> insns = new ArrayList<>();
    /** Instruction index → label it jumps to. */
    private final Map<Integer, String> fixups = new HashMap<>();
    private final Map<String, Integer> labels = new HashMap<>();

    /** Number of 8-byte instruction slots emitted so far (the index of the next instruction). */
    public int size() {
        return insns.size();
    }

    /** Appends a raw instruction. */
    public BpfAssembler emit(Insn insn) {
        insns.add(insn);
        return this;
    }

    /** Defines {@code name} at the next instruction; a label may be defined once. */
    public BpfAssembler label(String name) {
        if (labels.putIfAbsent(name, insns.size()) != null) {
            throw new IllegalStateException("label defined twice: " + name);
        }
        return this;
    }

    // ---------------------------------------------------------------- ALU

    /** {@code dst = imm} (64-bit, immediate sign-extended). */
    public BpfAssembler mov64(Reg dst, int imm) {
        return alu64(AluOp.MOV, dst, imm);
    }

    /** {@code dst = src} (64-bit). */
    public BpfAssembler mov64(Reg dst, Reg src) {
        return alu64(AluOp.MOV, dst, src);
    }

    /** {@code wdst = imm} (32-bit, upper half zeroed). */
    public BpfAssembler mov32(Reg dst, int imm) {
        return alu32(AluOp.MOV, dst, imm);
    }

    /** {@code wdst = wsrc} (32-bit, upper half zeroed). */
    public BpfAssembler mov32(Reg dst, Reg src) {
        return alu32(AluOp.MOV, dst, src);
    }

    /** {@code dst op= imm} on 64 bits. */
    public BpfAssembler alu64(AluOp op, Reg dst, int imm) {
        return emit(new Insn(Insn.CLASS_ALU64 | op.code | Insn.SRC_K, dst.num(), 0, 0, imm));
    }

    /** {@code dst op= src} on 64 bits. */
    public BpfAssembler alu64(AluOp op, Reg dst, Reg src) {
        return emit(new Insn(Insn.CLASS_ALU64 | op.code | Insn.SRC_X, dst.num(), src.num(), 0, 0));
    }

    /** {@code wdst op= imm} on 32 bits; the upper half of {@code dst} is zeroed. */
    public BpfAssembler alu32(AluOp op, Reg dst, int imm) {
        return emit(new Insn(Insn.CLASS_ALU | op.code | Insn.SRC_K, dst.num(), 0, 0, imm));
    }

    /** {@code wdst op= wsrc} on 32 bits; the upper half of {@code dst} is zeroed. */
    public BpfAssembler alu32(AluOp op, Reg dst, Reg src) {
        return emit(new Insn(Insn.CLASS_ALU | op.code | Insn.SRC_X, dst.num(), src.num(), 0, 0));
    }

    /** {@code dst = -dst} on 64 bits. */
    public BpfAssembler neg64(Reg dst) {
        return alu64(AluOp.NEG, dst, 0);
    }

    /**
     * {@code dst = htobe<bits>(dst)}: converts the low {@code bits} (16, 32 or 64) between host and
     * network byte order and zeroes the rest. A no-op swap on big-endian hosts.
     */
    public BpfAssembler endToBe(Reg dst, int bits) {
        return end(Insn.END_TO_BE, dst, bits);
    }

    /** {@code dst = htole<bits>(dst)}: truncates to {@code bits} on little-endian hosts. */
    public BpfAssembler endToLe(Reg dst, int bits) {
        return end(Insn.END_TO_LE, dst, bits);
    }

    private BpfAssembler end(int dir, Reg dst, int bits) {
        if (bits != 16 && bits != 32 && bits != 64) {
            throw new IllegalArgumentException("byte swap width must be 16, 32 or 64: " + bits);
        }
        return emit(new Insn(Insn.CLASS_ALU | Insn.OP_END | dir, dst.num(), 0, 0, bits));
    }

    // ---------------------------------------------------------------- memory

    /** {@code dst = *(size *)(src + off)}. */
    public BpfAssembler ldx(MemSize size, Reg dst, Reg src, int off) {
        return emit(new Insn(Insn.CLASS_LDX | Insn.MODE_MEM | size.code, dst.num(), src.num(), off, 0));
    }

    /** {@code *(size *)(dst + off) = src}. */
    public BpfAssembler stx(MemSize size, Reg dst, int off, Reg src) {
        return emit(new Insn(Insn.CLASS_STX | Insn.MODE_MEM | size.code, dst.num(), src.num(), off, 0));
    }

    /** {@code *(size *)(dst + off) = imm}. */
    public BpfAssembler st(MemSize size, Reg dst, int off, int imm) {
        return emit(new Insn(Insn.CLASS_ST | Insn.MODE_MEM | size.code, dst.num(), 0, off, imm));
    }

    /** {@code dst = imm64}: the two-slot {@code LD_IMM64}. */
    public BpfAssembler ldImm64(Reg dst, long imm) {
        return ldImm64(dst, 0, imm);
    }

    /**
     * {@code dst = map}: {@code LD_IMM64} with {@code src_reg = BPF_PSEUDO_MAP_FD}, which the
     * kernel relocates to the map behind {@code mapFd} at load time.
     */
    public BpfAssembler ldMapFd(Reg dst, int mapFd) {
        return ldImm64(dst, BpfCommand.PSEUDO_MAP_FD, mapFd & 0xffffffffL);
    }

    private BpfAssembler ldImm64(Reg dst, int pseudo, long imm) {
        emit(new Insn(Insn.CLASS_LD | MemSize.DW.code | Insn.MODE_IMM, dst.num(), pseudo, 0, (int) imm));
        return emit(new Insn(0, 0, 0, 0, (int) (imm >>> 32)));
    }

    // ---------------------------------------------------------------- control flow

    /** {@code goto label}. */
    public BpfAssembler ja(String label) {
        return jump(new Insn(Insn.CLASS_JMP | Insn.OP_JA, 0, 0, 0, 0), label);
    }

    /** {@code if (dst op imm) goto label}, comparing 64 bits. */
    public BpfAssembler jmp(JmpOp op, Reg dst, int imm, String label) {
        return jump(new Insn(Insn.CLASS_JMP | op.code | Insn.SRC_K, dst.num(), 0, 0, imm), label);
    }

    /** {@code if (dst op src) goto label}, comparing 64 bits. */
    public BpfAssembler jmp(JmpOp op, Reg dst, Reg src, String label) {
        return jump(new Insn(Insn.CLASS_JMP | op.code | Insn.SRC_X, dst.num(), src.num(), 0, 0), label);
    }

    /** {@code if (wdst op imm) goto label}, comparing the low 32 bits. */
    public BpfAssembler jmp32(JmpOp op, Reg dst, int imm, String label) {
        return jump(new Insn(Insn.CLASS_JMP32 | op.code | Insn.SRC_K, dst.num(), 0, 0, imm), label);
    }

    /** {@code if (wdst op wsrc) goto label}, comparing the low 32 bits. */
    public BpfAssembler jmp32(JmpOp op, Reg dst, Reg src, String label) {
        return jump(new Insn(Insn.CLASS_JMP32 | op.code | Insn.SRC_X, dst.num(), src.num(), 0, 0), label);
    }

    private BpfAssembler jump(Insn insn, String label) {
        if (label == null) {
            throw new IllegalArgumentException("jump target label is null");
        }
        fixups.put(insns.size(), label);
        return emit(insn);
    }

    /** {@code r0 = helper(r1, ..., r5)}: calls helper function {@code id} (enum bpf_func_id). */
    public BpfAssembler call(int helperId) {
        return emit(new Insn(Insn.CLASS_JMP | Insn.OP_CALL, 0, 0, 0, helperId));
    }

    /** {@code return r0}. */
    public BpfAssembler exit() {
        return emit(new Insn(Insn.CLASS_JMP | Insn.OP_EXIT, 0, 0, 0, 0));
    }

    // ---------------------------------------------------------------- output

    /**
     * Resolves the labels and returns the encoded program, one instruction word per element.
     *
     * @throws IllegalStateException if a jump names an undefined label or its offset does not fit
     *                               in 16 bits
     */
    public long[] build() {
        long[] out = new long[insns.size()];
        for (int pc = 0; pc < out.length; pc++) {
            Insn insn = insns.get(pc);
            String label = fixups.get(pc);
            if (label != null) {
                Integer target = labels.get(label);
                if (target == null) {
                    throw new IllegalStateException("jump at instruction " + pc + " to undefined label '" + label + "'");
                }
                int off = target - (pc + 1);
                if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
                    throw new IllegalStateException("jump at instruction " + pc + " to label '" + label
                            + "' is out of the 16-bit offset range: " + off);
                }
                insn = new Insn(insn.code(), insn.dst(), insn.src(), off, insn.imm());
            }
            out[pc] = insn.encode();
        }
        return out;
    }

    /** {@link #build()} copied into native memory of {@code arena}, ready for {@code BPF_PROG_LOAD}. */
    public MemorySegment build(Arena arena) {
        return toSegment(build(), arena);
    }

    /** Copies instruction words into native memory of {@code arena}. */
    public static MemorySegment toSegment(long[] insns, Arena arena) {
        MemorySegment seg = arena.allocate(JAVA_LONG, insns.length);
        MemorySegment.copy(insns, 0, seg, JAVA_LONG, 0, insns.length);
        return seg;
    }
}
