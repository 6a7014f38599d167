package org.nettyxdp.bpf;

import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.bpf.Reg.R0;
import static org.nettyxdp.bpf.Reg.R1;
import static org.nettyxdp.bpf.Reg.R10;
import static org.nettyxdp.bpf.Reg.R2;
import static org.nettyxdp.bpf.Reg.R3;
import static org.nettyxdp.bpf.Reg.R6;
import static org.nettyxdp.bpf.Reg.R7;
import static org.nettyxdp.bpf.Reg.R8;
import static org.nettyxdp.bpf.Reg.R9;

/** Encoding of single instructions against the bytes clang/llvm-objdump show, and label resolution. */
class BpfAssemblerTest {

    private static Arguments insn(String asm, Consumer<BpfAssembler> emit, String hex) {
        return Arguments.of(asm, emit, hex);
    }

    static Stream<Arguments> encodings() {
        return Stream.of(
                insn("r0 = 2", a -> a.mov64(R0, 2), "b700000002000000"),
                insn("r0 = -1", a -> a.mov64(R0, -1), "b7000000ffffffff"),
                insn("r6 = r1", a -> a.mov64(R6, R1), "bf16000000000000"),
                insn("w2 = 7", a -> a.mov32(R2, 7), "b402000007000000"),
                insn("w2 = w3", a -> a.mov32(R2, R3), "bc32000000000000"),
                insn("exit", BpfAssembler::exit, "9500000000000000"),
                insn("call 51", a -> a.call(51), "8500000033000000"),
                insn("call 188", a -> a.call(188), "85000000bc000000"),
                insn("r2 = *(u32 *)(r1 + 4)", a -> a.ldx(MemSize.W, R2, R1, 4), "6112040000000000"),
                insn("r2 = *(u16 *)(r7 + 12)", a -> a.ldx(MemSize.H, R2, R7, 12), "69720c0000000000"),
                insn("r3 = *(u8 *)(r9 + 9)", a -> a.ldx(MemSize.B, R3, R9, 9), "7193090000000000"),
                insn("r1 = *(u64 *)(r0 + 0)", a -> a.ldx(MemSize.DW, R1, R0, 0), "7901000000000000"),
                insn("*(u32 *)(r10 - 4) = r2", a -> a.stx(MemSize.W, R10, -4, R2), "632afcff00000000"),
                insn("*(u64 *)(r0 + 0) = r1", a -> a.stx(MemSize.DW, R0, 0, R1), "7b10000000000000"),
                insn("*(u16 *)(r10 - 2) = r1", a -> a.stx(MemSize.H, R10, -2, R1), "6b1afeff00000000"),
                insn("*(u8 *)(r10 - 1) = r1", a -> a.stx(MemSize.B, R10, -1, R1), "731affff00000000"),
                insn("*(u32 *)(r10 - 4) = 0", a -> a.st(MemSize.W, R10, -4, 0), "620afcff00000000"),
                insn("*(u64 *)(r10 - 8) = 5", a -> a.st(MemSize.DW, R10, -8, 5), "7a0af8ff05000000"),
                insn("r2 = be16 r2", a -> a.endToBe(R2, 16), "dc02000010000000"),
                insn("r2 = be32 r2", a -> a.endToBe(R2, 32), "dc02000020000000"),
                insn("r2 = le64 r2", a -> a.endToLe(R2, 64), "d402000040000000"),
                insn("r9 += 14", a -> a.alu64(AluOp.ADD, R9, 14), "070900000e000000"),
                insn("r2 += -4", a -> a.alu64(AluOp.ADD, R2, -4), "07020000fcffffff"),
                insn("r9 += r2", a -> a.alu64(AluOp.ADD, R9, R2), "0f29000000000000"),
                insn("r2 -= r3", a -> a.alu64(AluOp.SUB, R2, R3), "1f32000000000000"),
                insn("r2 &= 15", a -> a.alu64(AluOp.AND, R2, 15), "570200000f000000"),
                insn("r2 >>= 4", a -> a.alu64(AluOp.RSH, R2, 4), "7702000004000000"),
                insn("r2 <<= 2", a -> a.alu64(AluOp.LSH, R2, 2), "6702000002000000"),
                insn("r2 |= r3", a -> a.alu64(AluOp.OR, R2, R3), "4f32000000000000"),
                insn("r2 s>>= 1", a -> a.alu64(AluOp.ARSH, R2, 1), "c702000001000000"),
                insn("r0 = -r0", a -> a.neg64(R0), "8700000000000000"),
                insn("w9 *= 4", a -> a.alu32(AluOp.MUL, R9, 4), "2409000004000000"),
                insn("w9 += w2", a -> a.alu32(AluOp.ADD, R9, R2), "0c29000000000000"),
                insn("w2 ^= w3", a -> a.alu32(AluOp.XOR, R2, R3), "ac32000000000000"),
                insn("r1 = 0x1122334455667788 ll", a -> a.ldImm64(R1, 0x1122334455667788L),
                        "1801000088776655" + "0000000044332211"),
                insn("r1 = map[fd 253]", a -> a.ldMapFd(R1, 253), "18110000fd000000" + "0000000000000000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodings")
    void encodesLikeLlvm(String asm, Consumer<BpfAssembler> emit, String hex) {
        BpfAssembler a = new BpfAssembler();
        emit.accept(a);
        assertEquals(hex, toHex(a.build()), asm);
    }

    static Stream<Arguments> jumps() {
        // each jump at pc 0 to a label at pc 3 (after the jump and two movs): offset +2
        return Stream.of(
                insn("if r9 > r8 goto +2", a -> a.jmp(JmpOp.GT, R9, R8, "l"), "2d89020000000000"),
                insn("if r2 == 0x8100 goto +2", a -> a.jmp(JmpOp.EQ, R2, 0x8100, "l"), "1502020000810000"),
                insn("if r2 != 17 goto +2", a -> a.jmp(JmpOp.NE, R2, 17, "l"), "5502020011000000"),
                insn("if r2 >= 4 goto +2", a -> a.jmp(JmpOp.GE, R2, 4, "l"), "3502020004000000"),
                insn("if r2 < 5 goto +2", a -> a.jmp(JmpOp.LT, R2, 5, "l"), "a502020005000000"),
                insn("if r2 s< r3 goto +2", a -> a.jmp(JmpOp.SLT, R2, R3, "l"), "cd32020000000000"),
                insn("if r2 & 8 goto +2", a -> a.jmp(JmpOp.SET, R2, 8, "l"), "4502020008000000"),
                insn("if w2 != 5 goto +2", a -> a.jmp32(JmpOp.NE, R2, 5, "l"), "5602020005000000"),
                insn("if w2 <= w3 goto +2", a -> a.jmp32(JmpOp.LE, R2, R3, "l"), "be32020000000000"),
                insn("goto +2", a -> a.ja("l"), "0500020000000000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jumps")
    void encodesForwardJumps(String asm, Consumer<BpfAssembler> emit, String hex) {
        BpfAssembler a = new BpfAssembler();
        emit.accept(a);
        a.mov64(R0, 1).mov64(R0, 2).label("l").exit();
        long[] code = a.build();
        assertEquals(4, code.length);
        assertEquals(hex, toHex(new long[] {code[0]}), asm);
    }

    @Test
    void backwardJumpHasNegativeOffset() {
        long[] code = new BpfAssembler()
                .label("top")
                .mov64(R0, 0)
                .alu64(AluOp.ADD, R0, 1)
                .jmp(JmpOp.LT, R0, 10, "top")
                .exit()
                .build();
        assertEquals(-3, Insn.decode(code[2]).off());
    }

    @Test
    void jumpOverLdImm64CountsTwoSlots() {
        long[] code = new BpfAssembler()
                .ja("end")
                .ldImm64(R1, 1L << 40)
                .label("end")
                .exit()
                .build();
        assertEquals(4, code.length);
        assertEquals(2, Insn.decode(code[0]).off());
    }

    @Test
    void jumpToSelfNextIsZero() {
        long[] code = new BpfAssembler().jmp(JmpOp.EQ, R0, 0, "n").label("n").exit().build();
        assertEquals(0, Insn.decode(code[0]).off());
    }

    @Test
    void unknownLabelFailsAtBuild() {
        BpfAssembler a = new BpfAssembler().ja("nowhere").exit();
        IllegalStateException e = assertThrows(IllegalStateException.class, a::build);
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
    }

    @Test
    void duplicateLabelFails() {
        BpfAssembler a = new BpfAssembler().label("x");
        assertThrows(IllegalStateException.class, () -> a.label("x"));
    }

    @Test
    void outOfRangeOffsetFails() {
        BpfAssembler a = new BpfAssembler().ja("far");
        for (int i = 0; i < 40_000; i++) {
            a.mov64(R0, 0);
        }
        a.label("far").exit();
        IllegalStateException e = assertThrows(IllegalStateException.class, a::build);
        assertTrue(e.getMessage().contains("16-bit"), e.getMessage());
    }

    @Test
    void invalidEndWidthRejected() {
        assertThrows(IllegalArgumentException.class, () -> new BpfAssembler().endToBe(R2, 8));
    }

    @Test
    void insnFieldRangesChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Insn(0x100, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Insn(0, 16, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Insn(0, 0, 0, 40_000, 0));
    }

    @Test
    void decodeInvertsEncode() {
        Insn i = new Insn(0x61, 2, 1, -4, -123456);
        assertEquals(i, Insn.decode(i.encode()));
    }

    @Test
    void segmentHoldsLittleEndianWords() {
        long[] code = new BpfAssembler().mov64(R0, 2).exit().build();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            byte[] bytes = BpfAssembler.toSegment(code, arena).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertArrayEquals(HexFormat.of().parseHex("b700000002000000" + "9500000000000000"), bytes);
        }
    }

    @Test
    void steeringProgramAssemblesWithoutKernel() {
        byte[] mac = {2, 0, 0, 0, 0, 1};
        long[] code = UdpSteeringProgram.assemble(3, 5, 4, 2, mac, XdpAction.PASS);
        assertTrue(code.length > 40 && code.length < 150, "length " + code.length);
        assertThrows(IllegalArgumentException.class, () -> UdpSteeringProgram.assemble(3, 5, 4, 0, mac, XdpAction.PASS));
        assertThrows(IllegalArgumentException.class,
                () -> UdpSteeringProgram.assemble(3, 5, 4, 1, mac, XdpAction.REDIRECT));
        assertThrows(IllegalArgumentException.class,
                () -> UdpSteeringProgram.assemble(3, 5, 4, 1, new byte[4], XdpAction.PASS));
    }

    @Test
    void objNameIsSanitised() {
        assertEquals("nx_ports_eth0_1", BpfAttr.objName("nx-ports-eth0:123456"));
        assertEquals("a.b_c", BpfAttr.objName("a.b c"));
    }

    @Test
    void possibleCpuListParsing() {
        assertEquals(1, CounterMap.possibleCpus("0\n"));
        assertEquals(2, CounterMap.possibleCpus("0-1\n"));
        assertEquals(8, CounterMap.possibleCpus("0-3,5-7\n"));
    }

    /** Little-endian bytes of the words, as hex. */
    private static String toHex(long[] words) {
        StringBuilder sb = new StringBuilder();
        for (long w : words) {
            for (int i = 0; i < 8; i++) {
                sb.append(String.format("%02x", (w >>> (8 * i)) & 0xff));
            }
        }
        return sb.toString();
    }
}
