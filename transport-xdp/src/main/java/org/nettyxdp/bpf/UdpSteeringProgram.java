package org.nettyxdp.bpf;

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
import static org.nettyxdp.bpf.Reg.R6;
import static org.nettyxdp.bpf.Reg.R7;
import static org.nettyxdp.bpf.Reg.R8;
import static org.nettyxdp.bpf.Reg.R9;

/**
 * The XDP program that steers UDP datagrams for bound ports into AF_XDP sockets and passes
 * everything else to the kernel. It takes only what the kernel would deliver to the channel's own
 * socket, because it runs before the kernel's checks; anything in doubt is the kernel's.
 *
 * <p>Per frame:
 * <ul>
 *   <li>Ethernet destination equal to the interface's MAC address (baked in at load time). Frames for
 *       other hosts (promiscuous mode, bridges, macvlan tenants) and group addresses (multicast,
 *       broadcast: the kernel delivers those to every member socket) go to the kernel.</li>
 *   <li>Untagged: a frame with an 802.1Q/802.1ad tag belongs to a VLAN device the kernel knows about
 *       (or drops when there is none), so it is passed.</li>
 *   <li>IPv4: version 4, IHL &ge; 5 (options skipped), not a fragment (MF clear and offset 0),
 *       protocol UDP. IPv6: version 6, next header UDP directly (extension headers are left to the
 *       kernel).</li>
 *   <li>The IP destination is one of the host's addresses ({@link LocalAddressMap}); frames the host
 *       would forward, and directed broadcasts, are passed.</li>
 * </ul>
 * Then the {@link PortMap} is searched twice: first for the exact key (UDP destination port, the
 * frame's family, its IP destination address), then for the port's wildcard key of the frame's family
 * (port, family, zero address). So several channels can share a port when bound to different
 * addresses, an entry bound to an address wins over the port's wildcard entry, and a channel of one
 * family never takes the other's frames (a dual-stack IPv6 channel puts both wildcard keys). On a hit
 * whose {@code max_frame_len} is non-zero and smaller than the frame (total length, all fragments of a
 * multi-buffer frame), the frame is passed to the kernel: one the socket's frames cannot hold, or one
 * longer than the link's MTU (in generic mode, an aggregate of several datagrams the kernel segments).
 * Otherwise the verdict is {@code bpf_redirect_map(xsks, slot * numQueues + rx_queue_index, fallback)}.
 * Frames arriving on a queue {@code >= numQueues} are passed (their index would fall into the next
 * slot's range). Anything else — ARP, ICMP, TCP, other ports, truncated headers — is {@code XDP_PASS},
 * after the raw channels' filters had their turn when loaded with a program array ({@link #passExit}).
 * Source addresses are checked by the channel (martians are counted drops there), not here.
 *
 * <p>{@code numQueues} and the MAC address are immediates: both are fixed per interface and constants
 * keep the hot path free of a config-map lookup. If either changes, load a new program and replace
 * the link.
 *
 * <p>The fallback of {@code bpf_redirect_map} (taken when the XSKMAP index holds no socket) is
 * {@link XdpAction#PASS} in production; tests load it with {@link XdpAction#DROP} so that
 * {@code BPF_PROG_TEST_RUN} tells "steered" (DROP) from "not steered" (PASS) without sockets.
 *
 * <p>The frame length comes from {@code bpf_xdp_get_buff_len} rather than
 * {@code data_end - data}: subtracting two packet pointers needs {@code CAP_PERFMON}, and the
 * helper also counts the fragments of multi-buffer frames. It runs only for ports with a limit.
 */
public final class UdpSteeringProgram {
    /** The program name bpftool shows. */
    public static final String NAME = "nx_udp_steer";

    private static final int ETH_HLEN = 14;
    private static final int ETH_P_IP = 0x0800;
    private static final int ETH_P_IPV6 = 0x86dd;
    private static final int IPPROTO_UDP = 17;
    private static final int IPV4_MIN_HLEN = 20;
    private static final int IPV6_HLEN = 40;
    private static final int UDP_HLEN = 8;
    /** Offsets of the destination address in the IPv4 and IPv6 headers. */
    private static final int IPV4_DST = 16;
    private static final int IPV6_DST = 24;
    /** Stack: the 24-byte PortMap key {port, family, addr[16]} at fp-24. */
    private static final int KEY_SLOT = -PortMap.KEY_SIZE;
    private static final int KEY_FAMILY_SLOT = KEY_SLOT + PortMap.KEY_FAMILY;
    private static final int KEY_ADDR_SLOT = KEY_SLOT + PortMap.KEY_ADDR;
    /** The (family, addr) tail of the port key is a {@link LocalAddressMap} key. */
    private static final int LOCAL_KEY_SLOT = KEY_FAMILY_SLOT;
    /** IPv4 flags/fragment-offset word: MF bit and 13-bit offset (DF ignored). */
    private static final int IP_MF_OFFSET = 0x3fff;
    /** struct xdp_md offsets. */
    private static final int MD_DATA = 0;
    private static final int MD_DATA_END = 4;
    private static final int MD_RX_QUEUE_INDEX = 16;

    private UdpSteeringProgram() {
    }

    /** The XSKMAP index of channel slot {@code slot} on RX queue {@code queue}. */
    public static int xskIndex(int slot, int queue, int numQueues) {
        if (slot < 0 || queue < 0 || queue >= numQueues) {
            throw new IllegalArgumentException("slot " + slot + ", queue " + queue + " of " + numQueues);
        }
        return Math.multiplyExact(slot, numQueues) + queue;
    }

    /** Loads the program for production: fallback {@link XdpAction#PASS}, no multi-buffer. */
    public static BpfProgram load(PortMap ports, LocalAddressMap locals, XskMap xsks, int numQueues, byte[] mac)
            throws BpfException {
        return load(ports, locals, xsks, numQueues, mac, XdpAction.PASS, false);
    }

    /**
     * Assembles and loads the program.
     *
     * @param numQueues number of RX queues of the interface; the XSKMAP index is
     *                  {@code slot * numQueues + rx_queue_index}
     * @param mac       the interface's MAC address (6 bytes; all zero on {@code lo})
     * @param fallback  verdict when the XSKMAP index is empty: ABORTED, DROP, PASS or TX
     * @param frags     load with {@code BPF_F_XDP_HAS_FRAGS} (needed when any channel uses multi-buffer,
     *                  or the device MTU exceeds a page)
     */
    public static BpfProgram load(PortMap ports, LocalAddressMap locals, XskMap xsks, int numQueues, byte[] mac,
                                  XdpAction fallback, boolean frags) throws BpfException {
        return BpfProgram.loadXdp(assemble(ports.fd(), locals.fd(), xsks.fd(), numQueues, mac, fallback), NAME,
                frags);
    }

    /**
     * Loads the program with the raw-channel tail call: every frame it does not steer goes to
     * {@code rawPrograms[0]} ({@link RawFilterProgram}) first, and to the kernel if that slot is empty.
     */
    public static BpfProgram load(PortMap ports, LocalAddressMap locals, XskMap xsks, BpfMap rawPrograms,
                                  int numQueues, byte[] mac, XdpAction fallback, boolean frags) throws BpfException {
        return BpfProgram.loadXdp(assemble(ports.fd(), locals.fd(), xsks.fd(), numQueues, mac, fallback,
                rawPrograms.fd()), NAME, frags);
    }

    /** The program's instructions for the given map fds (for tests and inspection). */
    public static long[] assemble(int portMapFd, int localMapFd, int xskMapFd, int numQueues, byte[] mac,
                                  XdpAction fallback) {
        return assemble(portMapFd, localMapFd, xskMapFd, numQueues, mac, fallback, -1);
    }

    /**
     * The program's instructions; with {@code rawProgArrayFd >= 0}, frames it does not steer are
     * tail-called into index 0 of that {@code BPF_MAP_TYPE_PROG_ARRAY} (see {@link #passExit}).
     */
    public static long[] assemble(int portMapFd, int localMapFd, int xskMapFd, int numQueues, byte[] mac,
                                  XdpAction fallback, int rawProgArrayFd) {
        if (numQueues < 1) {
            throw new IllegalArgumentException("numQueues must be >= 1: " + numQueues);
        }
        if (fallback == XdpAction.REDIRECT) {
            throw new IllegalArgumentException("the redirect fallback must be ABORTED, DROP, PASS or TX");
        }
        if (mac == null || mac.length != 6) {
            throw new IllegalArgumentException("the interface MAC address must have 6 bytes");
        }
        // the destination MAC as the two little-endian loads below see it
        int macLow = (mac[0] & 0xff) | (mac[1] & 0xff) << 8 | (mac[2] & 0xff) << 16 | (mac[3] & 0xff) << 24;
        int macHigh = (mac[4] & 0xff) | (mac[5] & 0xff) << 8;
        BpfAssembler a = new BpfAssembler();
        // r6 = ctx, r7 = data (from L3 on: the IP header), r8 = data_end, r9 = cursor (start of the
        // current header). r6-r9 are callee-saved: they and the stack survive the helper calls.
        a.mov64(R6, R1)
         .ldx(W, R7, R6, MD_DATA)
         .ldx(W, R8, R6, MD_DATA_END)
         // Ethernet
         .mov64(R9, R7)
         .alu64(AluOp.ADD, R9, ETH_HLEN)
         .jmp(GT, R9, R8, "pass")
         // destination MAC must be the interface's: others (and group addresses) are the kernel's
         .ldx(W, R2, R7, 0)
         .jmp32(NE, R2, macLow, "pass")
         .ldx(H, R2, R7, 4)
         .jmp(NE, R2, macHigh, "pass")
         // untagged only: a VLAN tag (0x8100, 0x88a8) is another ethertype and passes below
         .ldx(H, R2, R7, 12)
         .endToBe(R2, 16)
         .jmp(EQ, R2, ETH_P_IP, "ipv4")
         .jmp(NE, R2, ETH_P_IPV6, "pass")
         // IPv6: fixed 40-byte header, next header must be UDP
         .mov64(R3, R9)
         .alu64(AluOp.ADD, R3, IPV6_HLEN)
         .jmp(GT, R3, R8, "pass")
         .ldx(B, R2, R9, 0)
         .alu64(AluOp.RSH, R2, 4)
         .jmp(NE, R2, 6, "pass")
         .ldx(B, R2, R9, 6)
         .jmp(NE, R2, IPPROTO_UDP, "pass")
         .mov64(R7, R9)              // r7 = L3 header (data is not needed past L2)
         .st(W, R10, KEY_FAMILY_SLOT, PortMap.FAMILY_IPV6);
        // key.addr = IPv6 destination (bytes 24..39 of the header, within the 40 checked above)
        for (int i = 0; i < 16; i += 4) {
            a.ldx(W, R2, R9, IPV6_DST + i)
             .stx(W, R10, KEY_ADDR_SLOT + i, R2);
        }
        a.alu64(AluOp.ADD, R9, IPV6_HLEN)
         .ja("udp")
         // IPv4: version 4, IHL >= 5, no fragment, protocol UDP; skip options
         .label("ipv4")
         .mov64(R3, R9)
         .alu64(AluOp.ADD, R3, IPV4_MIN_HLEN)
         .jmp(GT, R3, R8, "pass")
         .ldx(B, R2, R9, 0)
         .mov64(R3, R2)
         .alu64(AluOp.RSH, R3, 4)
         .jmp(NE, R3, 4, "pass")
         .alu64(AluOp.AND, R2, 0x0f)
         .jmp(LT, R2, 5, "pass")
         .ldx(H, R3, R9, 6)
         .endToBe(R3, 16)
         .alu64(AluOp.AND, R3, IP_MF_OFFSET)
         .jmp(NE, R3, 0, "pass")
         .ldx(B, R3, R9, 9)
         .jmp(NE, R3, IPPROTO_UDP, "pass")
         .mov64(R7, R9)              // r7 = L3 header
         .st(W, R10, KEY_FAMILY_SLOT, PortMap.FAMILY_IPV4)
         // key.addr = IPv4 destination (bytes 16..19, within the 20 checked above), then zeros
         .ldx(W, R3, R9, IPV4_DST)
         .stx(W, R10, KEY_ADDR_SLOT, R3)
         .st(W, R10, KEY_ADDR_SLOT + 4, 0)
         .st(W, R10, KEY_ADDR_SLOT + 8, 0)
         .st(W, R10, KEY_ADDR_SLOT + 12, 0)
         .alu64(AluOp.LSH, R2, 2)
         .alu64(AluOp.ADD, R9, R2)
         // UDP: destination port (host order) → key.port; the key is complete
         .label("udp")
         .mov64(R3, R9)
         .alu64(AluOp.ADD, R3, UDP_HLEN)
         .jmp(GT, R3, R8, "pass")
         .ldx(H, R2, R9, 2)
         .endToBe(R2, 16)
         .stx(W, R10, KEY_SLOT, R2)
         // the destination must be one of the host's addresses
         .ldMapFd(R1, localMapFd)
         .mov64(R2, R10)
         .alu64(AluOp.ADD, R2, LOCAL_KEY_SLOT)
         .call(BpfCommand.FN_MAP_LOOKUP_ELEM)  // clobbers r1-r5; r6-r9 and the stack survive
         .jmp(EQ, R0, 0, "pass")
         // 1st lookup: exact (port, family, destination)
         .ldMapFd(R1, portMapFd)
         .mov64(R2, R10)
         .alu64(AluOp.ADD, R2, KEY_SLOT)
         .call(BpfCommand.FN_MAP_LOOKUP_ELEM)
         .jmp(NE, R0, 0, "hit");
        // 2nd lookup: the port's wildcard of the frame's family (port, family, zeros)
        for (int i = 0; i < 16; i += 4) {
            a.st(W, R10, KEY_ADDR_SLOT + i, 0);
        }
        a.ldMapFd(R1, portMapFd)
         .mov64(R2, R10)
         .alu64(AluOp.ADD, R2, KEY_SLOT)
         .call(BpfCommand.FN_MAP_LOOKUP_ELEM)
         .jmp(EQ, R0, 0, "pass");
        a.label("hit")
         .ldx(W, R9, R0, 0)          // r9 = slot
         .ldx(W, R7, R0, 4)          // r7 = max_frame_len
         .jmp(EQ, R7, 0, "redirect")
         .mov64(R1, R6)
         .call(BpfCommand.FN_XDP_GET_BUFF_LEN)
         .jmp(GT, R0, R7, "kernel")
         // redirect to xsks[slot * numQueues + rx_queue_index]
         .label("redirect")
         .ldx(W, R2, R6, MD_RX_QUEUE_INDEX)
         .jmp(GE, R2, numQueues, "pass")
         .alu32(AluOp.MUL, R9, numQueues)
         .alu32(AluOp.ADD, R9, R2)
         .mov64(R2, R9)
         .ldMapFd(R1, xskMapFd)
         .mov64(R3, fallback.code())
         .call(BpfCommand.FN_REDIRECT_MAP)
         .exit()
         // a datagram for a bound port too long for its frames: the channel's kernel socket takes it
         .label("kernel")
         .mov64(R0, XdpAction.PASS.code())
         .exit();
        passExit(a, rawProgArrayFd);
        return a.build();
    }

    /**
     * The exit of every frame the program does not steer, at label {@code "pass"} (r6 = ctx): the
     * raw channels' filter program gets it first ({@code bpf_tail_call(ctx, rawPrograms, 0)}), and
     * when no raw channel is bound (empty slot: the call falls through) or without a program array
     * ({@code progArrayFd < 0}) it is {@code XDP_PASS}. So datagram channels' ports always win over raw
     * filters.
     */
    static void passExit(BpfAssembler a, int progArrayFd) {
        a.label("pass");
        if (progArrayFd >= 0) {
            a.mov64(R1, R6)
             .ldMapFd(R2, progArrayFd)
             .mov64(R3, XdpSteering.RAW_PROGRAM_INDEX)
             .call(BpfCommand.FN_TAIL_CALL);
        }
        a.mov64(R0, XdpAction.PASS.code())
         .exit();
    }
}
