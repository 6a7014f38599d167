package org.nettyxdp.bpf;

import static org.nettyxdp.bpf.Reg.R0;
import static org.nettyxdp.bpf.Reg.R1;
import static org.nettyxdp.bpf.Reg.R10;
import static org.nettyxdp.bpf.Reg.R2;

/**
 * An XDP program that counts every frame in counter 0 of a {@link CounterMap} and drops it: the
 * ceiling the benchmarks compare the AF_XDP path against (nothing can receive faster on the device).
 */
public final class XdpDropProgram {
    /** The program name bpftool shows. */
    public static final String NAME = "nx_xdp_drop";
    /** Index of the packet counter in the counter map. */
    public static final int PACKETS = 0;

    private XdpDropProgram() {
    }

    /** Loads the program, counting into {@code counters} (at least one counter). */
    public static BpfProgram load(CounterMap counters) throws BpfException {
        return BpfProgram.loadXdp(assemble(counters.fd()), NAME, false);
    }

    /** The program's instructions for the given counter-map fd. */
    public static long[] assemble(int counterMapFd) {
        return new BpfAssembler()
                .st(MemSize.W, R10, -4, PACKETS)
                .ldMapFd(R1, counterMapFd)
                .mov64(R2, R10)
                .alu64(AluOp.ADD, R2, -4)
                .call(BpfCommand.FN_MAP_LOOKUP_ELEM)
                .jmp(JmpOp.EQ, R0, 0, "drop")
                .ldx(MemSize.DW, R1, R0, 0)
                .alu64(AluOp.ADD, R1, 1)
                .stx(MemSize.DW, R0, 0, R1)
                .label("drop")
                .mov64(R0, XdpAction.DROP.code())
                .exit()
                .build();
    }
}
