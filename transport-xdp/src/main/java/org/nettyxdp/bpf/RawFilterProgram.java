package org.nettyxdp.bpf;

import java.util.List;

import static org.nettyxdp.bpf.JmpOp.EQ;
import static org.nettyxdp.bpf.JmpOp.GE;
import static org.nettyxdp.bpf.JmpOp.GT;
import static org.nettyxdp.bpf.JmpOp.LT;
import static org.nettyxdp.bpf.JmpOp.NE;
import static org.nettyxdp.bpf.MemSize.B;
import static org.nettyxdp.bpf.MemSize.H;
import static org.nettyxdp.bpf.MemSize.W;
import static org.nettyxdp.bpf.Reg.R0;
import static org.nettyxdp.bpf.Reg.R1;
import static org.nettyxdp.bpf.Reg.R10;
import static org.nettyxdp.bpf.Reg.R2;
import static org.nettyxdp.bpf.Reg.R3;
import static org.nettyxdp.bpf.Reg.R4;
import static org.nettyxdp.bpf.Reg.R6;
import static org.nettyxdp.bpf.Reg.R7;
import static org.nettyxdp.bpf.Reg.R8;
import static org.nettyxdp.bpf.Reg.R9;

/**
 * The XDP program of an interface's raw channels: the steering program tail-calls it
 * ({@link XdpSteering#RAW_PROGRAM_INDEX}) for every frame it would pass to the kernel, and it
 * evaluates each raw channel's filter in order. The first channel whose filter matches, and which
 * listens on the frame's RX queue, gets the frame:
 * {@code bpf_redirect_map(rawXsks, slot * numQueues + rx_queue_index, fallback)}. A frame no filter
 * takes is {@code XDP_PASS}: the kernel's.
 *
 * <p>One prologue parses the frame once: Ethernet, at most one 802.1Q/802.1ad tag, then IPv4 (IHL
 * &ge; 5, options skipped; the L4 header only in a first fragment) or IPv6 (fixed header; the L4
 * header only when the next header is TCP or UDP). It leaves on the stack the EtherType, the VLAN ID,
 * the IP version and protocol and whether an L4 header follows; each {@link FrameMatch} leaf then
 * tests one of them or one header field, bounds-checked against {@code data_end} again. A runt frame
 * (shorter than its headers) matches no leaf but {@link FrameMatch.All}.
 */
public final class RawFilterProgram {
    /** The program name bpftool shows. */
    public static final String NAME = "nx_raw_filter";

    /** One raw channel as the program sees it. */
    public record Entry(int slot, FrameMatch match, long queueMask) {
    }

    private static final int ETH_HLEN = 14;
    private static final int ETH_P_IP = 0x0800;
    private static final int ETH_P_IPV6 = 0x86dd;
    private static final int ETH_P_8021Q = 0x8100;
    private static final int ETH_P_8021AD = 0x88a8;
    /** Stack slots the prologue fills (32-bit each). */
    private static final int ETHER_TYPE = -4;
    private static final int VLAN_ID = -8;
    private static final int IP_VERSION = -12;
    private static final int IP_PROTO = -16;
    private static final int HAS_L4 = -20;
    private static final int MD_DATA = 0;
    private static final int MD_DATA_END = 4;
    private static final int MD_RX_QUEUE_INDEX = 16;

    private int labels;

    private RawFilterProgram() {
    }

    /** Assembles and loads the program for {@code entries}, in order. */
    public static BpfProgram load(List<Entry> entries, XskMap rawXsks, int numQueues, XdpAction fallback,
                                  boolean frags) throws BpfException {
        return BpfProgram.loadXdp(assemble(entries, rawXsks.fd(), numQueues, fallback), NAME, frags);
    }

    /** The program's instructions (for tests and inspection). */
    public static long[] assemble(List<Entry> entries, int xskMapFd, int numQueues, XdpAction fallback) {
        if (numQueues < 1) {
            throw new IllegalArgumentException("numQueues must be >= 1: " + numQueues);
        }
        if (fallback == XdpAction.REDIRECT) {
            throw new IllegalArgumentException("the redirect fallback must be ABORTED, DROP, PASS or TX");
        }
        return new RawFilterProgram().build(entries, xskMapFd, numQueues, fallback);
    }

    private String fresh(String what) {
        return what + '_' + labels++;
    }

    private long[] build(List<Entry> entries, int xskMapFd, int numQueues, XdpAction fallback) {
        BpfAssembler a = new BpfAssembler();
        prologue(a);
        for (Entry e : entries) {
            String match = fresh("match");
            String next = fresh("next");
            compile(a, e.match(), match, next);
            a.label(match)
             .ldx(W, R2, R6, MD_RX_QUEUE_INDEX)
             .jmp(GE, R2, numQueues, next);
            long all = numQueues >= 64 ? -1L : (1L << numQueues) - 1;
            if ((e.queueMask() & all) != all) {
                a.mov64(R3, 1)
                 .alu64(AluOp.LSH, R3, R2)
                 .ldImm64(R4, e.queueMask())
                 .alu64(AluOp.AND, R3, R4)
                 .jmp(EQ, R3, 0, next);
            }
            a.alu32(AluOp.ADD, R2, Math.multiplyExact(e.slot(), numQueues))
             .ldMapFd(R1, xskMapFd)
             .mov64(R3, fallback.code())
             .call(BpfCommand.FN_REDIRECT_MAP)
             .exit()
             .label(next);
        }
        a.mov64(R0, XdpAction.PASS.code()).exit();
        return a.build();
    }

    /**
     * r6 = ctx, r7 = data_end, r8 = L3 header (data while unknown), r9 = L4 header (data while none);
     * the stack slots as the class comment says (-1 / 0 while unknown).
     */
    private static void prologue(BpfAssembler a) {
        a.mov64(R6, R1)
         .ldx(W, R8, R6, MD_DATA)
         .ldx(W, R7, R6, MD_DATA_END)
         .mov64(R9, R8)
         .st(W, R10, ETHER_TYPE, -1)
         .st(W, R10, VLAN_ID, -1)
         .st(W, R10, IP_VERSION, 0)
         .st(W, R10, IP_PROTO, -1)
         .st(W, R10, HAS_L4, 0)
         .mov64(R3, R8)
         .alu64(AluOp.ADD, R3, ETH_HLEN)
         .jmp(GT, R3, R7, "filters")
         .ldx(H, R2, R8, 12)
         .endToBe(R2, 16)
         .jmp(EQ, R2, ETH_P_8021Q, "vlan")
         .jmp(NE, R2, ETH_P_8021AD, "l3")
         .label("vlan")
         .alu64(AluOp.ADD, R3, 4)
         .jmp(GT, R3, R7, "filters")
         .ldx(H, R4, R8, ETH_HLEN)
         .endToBe(R4, 16)
         .alu64(AluOp.AND, R4, 0x0fff)
         .stx(W, R10, VLAN_ID, R4)
         .ldx(H, R2, R8, ETH_HLEN + 2)
         .endToBe(R2, 16)
         .label("l3")
         .stx(W, R10, ETHER_TYPE, R2)
         .mov64(R8, R3)                       // r8 = L3 header
         .mov64(R9, R3)
         .jmp(EQ, R2, ETH_P_IP, "ipv4")
         .jmp(NE, R2, ETH_P_IPV6, "filters")
         // IPv6: fixed header; TCP/UDP directly after it
         .alu64(AluOp.ADD, R3, 40)
         .jmp(GT, R3, R7, "filters")
         .ldx(B, R2, R8, 0)
         .alu64(AluOp.RSH, R2, 4)
         .jmp(NE, R2, 6, "filters")
         .st(W, R10, IP_VERSION, 6)
         .ldx(B, R2, R8, 6)
         .stx(W, R10, IP_PROTO, R2)
         .mov64(R9, R3)
         .st(W, R10, HAS_L4, 1)
         .ja("filters")
         // IPv4: version 4, IHL >= 5; L4 only in the first fragment
         .label("ipv4")
         .alu64(AluOp.ADD, R3, 20)
         .jmp(GT, R3, R7, "filters")
         .ldx(B, R2, R8, 0)
         .mov64(R3, R2)
         .alu64(AluOp.RSH, R3, 4)
         .jmp(NE, R3, 4, "filters")
         .alu64(AluOp.AND, R2, 0x0f)
         .jmp(LT, R2, 5, "filters")
         .st(W, R10, IP_VERSION, 4)
         .ldx(B, R3, R8, 9)
         .stx(W, R10, IP_PROTO, R3)
         .ldx(H, R3, R8, 6)
         .endToBe(R3, 16)
         .alu64(AluOp.AND, R3, 0x1fff)
         .jmp(NE, R3, 0, "filters")
         .alu64(AluOp.LSH, R2, 2)
         .mov64(R9, R8)
         .alu64(AluOp.ADD, R9, R2)
         .st(W, R10, HAS_L4, 1)
         .label("filters");
    }

    /** Emits code that jumps to {@code yes} if {@code m} matches the frame, else to {@code no}. */
    private void compile(BpfAssembler a, FrameMatch m, String yes, String no) {
        switch (m) {
            case FrameMatch.All all -> always(a, yes, no);
            case FrameMatch.EtherType t -> stackEquals(a, ETHER_TYPE, t.type(), yes, no);
            case FrameMatch.Vlan v -> stackEquals(a, VLAN_ID, v.id(), yes, no);
            case FrameMatch.IpProtocol p -> stackEquals(a, IP_PROTO, p.protocol(), yes, no);
            case FrameMatch.IpPrefix p -> prefix(a, p, yes, no);
            case FrameMatch.Port p -> port(a, p, yes, no);
            case FrameMatch.Not n -> compile(a, n.part(), no, yes);
            case FrameMatch.And and -> {
                if (and.parts().isEmpty()) {
                    always(a, yes, no);
                    return;
                }
                for (int i = 0; i < and.parts().size() - 1; i++) {
                    String next = fresh("and");
                    compile(a, and.parts().get(i), next, no);
                    a.label(next);
                }
                compile(a, and.parts().getLast(), yes, no);
            }
            case FrameMatch.Or or -> {
                if (or.parts().isEmpty()) {
                    always(a, no, yes);
                    return;
                }
                for (int i = 0; i < or.parts().size() - 1; i++) {
                    String next = fresh("or");
                    compile(a, or.parts().get(i), yes, next);
                    a.label(next);
                }
                compile(a, or.parts().getLast(), yes, no);
            }
        }
    }

    /**
     * Jumps to {@code taken}, through a test the verifier cannot fold (the VLAN ID is never 0x10000), so
     * that the code for {@code other} stays reachable: the verifier refuses unreachable instructions.
     */
    private static void always(BpfAssembler a, String taken, String other) {
        a.ldx(W, R2, R10, VLAN_ID)
         .jmp32(EQ, R2, 0x10000, other)
         .ja(taken);
    }

    private static void stackEquals(BpfAssembler a, int slot, int value, String yes, String no) {
        a.ldx(W, R2, R10, slot)
         .jmp32(NE, R2, value, no)
         .ja(yes);
    }

    private static void prefix(BpfAssembler a, FrameMatch.IpPrefix p, String yes, String no) {
        byte[] addr = p.address();
        boolean v4 = addr.length == 4;
        int base = v4 ? (p.source() ? 12 : 16) : (p.source() ? 8 : 24);
        a.ldx(W, R2, R10, IP_VERSION)
         .jmp32(NE, R2, v4 ? 4 : 6, no)
         .mov64(R3, R8)
         .alu64(AluOp.ADD, R3, v4 ? 20 : 40)
         .jmp(GT, R3, R7, no);
        int bits = p.prefixLength();
        for (int word = 0; word * 32 < bits; word++) {
            int wordBits = Math.min(32, bits - word * 32);
            int mask = wordBits == 32 ? -1 : -1 << (32 - wordBits);
            int value = ((addr[word * 4] & 0xff) << 24 | (addr[word * 4 + 1] & 0xff) << 16
                    | (addr[word * 4 + 2] & 0xff) << 8 | (addr[word * 4 + 3] & 0xff)) & mask;
            a.ldx(W, R2, R8, base + word * 4)
             .endToBe(R2, 32);
            if (mask != -1) {
                a.alu32(AluOp.AND, R2, mask);
            }
            a.jmp32(NE, R2, value, no);
        }
        a.ja(yes);
    }

    private static void port(BpfAssembler a, FrameMatch.Port p, String yes, String no) {
        a.ldx(W, R2, R10, IP_PROTO)
         .jmp32(NE, R2, p.protocol(), no)
         .ldx(W, R2, R10, HAS_L4)
         .jmp32(EQ, R2, 0, no)
         .mov64(R3, R9)
         .alu64(AluOp.ADD, R3, 4)
         .jmp(GT, R3, R7, no)
         .ldx(H, R2, R9, p.source() ? 0 : 2)
         .endToBe(R2, 16);
        if (p.low() == p.high()) {
            a.jmp(NE, R2, p.low(), no);
        } else {
            a.jmp(LT, R2, p.low(), no)
             .jmp(GT, R2, p.high(), no);
        }
        a.ja(yes);
    }
}
