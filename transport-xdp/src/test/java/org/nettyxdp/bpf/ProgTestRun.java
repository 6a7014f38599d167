package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.nettyxdp.sys.Errno;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Runs a loaded program on a frame in the kernel ({@code BPF_PROG_TEST_RUN}), without any device:
 * how the tests check a program's verdicts. A test-side seam over {@link BpfProgram}'s package-private
 * fd (the tests are patched into the module), so the transport ships no test hook.
 */
final class ProgTestRun {
    // union bpf_attr for BPF_PROG_TEST_RUN (include/uapi/linux/bpf.h)
    private static final long PROG_FD = 0;
    private static final long RETVAL = 4;
    private static final long DATA_SIZE_IN = 8;
    private static final long DATA_SIZE_OUT = 12;
    private static final long DATA_IN = 16;
    private static final long DATA_OUT = 24;
    private static final long REPEAT = 32;
    private static final long DURATION = 36;
    private static final long CTX_SIZE_IN = 40;
    private static final long CTX_IN = 48;
    /** {@code sizeof(struct xdp_md)}. */
    private static final int XDP_MD_SIZE = 24;

    private ProgTestRun() {
    }

    /** Runs {@code program} once on {@code frame} in the kernel and returns its verdict. */
    static TestRunResult run(BpfProgram program, byte[] frame) throws BpfException {
        return run(program, frame, 1, 0, 0);
    }

    /**
     * Runs {@code program} on {@code frame} {@code repeat} times with {@code BPF_PROG_TEST_RUN}.
     *
     * @param ingressIfindex for XDP: if non-zero, {@code ctx->ingress_ifindex} (an existing device)
     * @param rxQueueIndex   for XDP with {@code ingressIfindex}: {@code ctx->rx_queue_index}, which
     *                       must be below the device's number of RX queues
     * @throws BpfException e.g. {@code EINVAL} for an XDP frame shorter than 14 bytes (an Ethernet
     *                      header) or longer than a page without {@code BPF_F_XDP_HAS_FRAGS}
     */
    static TestRunResult run(BpfProgram program, byte[] frame, int repeat, int ingressIfindex, int rxQueueIndex)
            throws BpfException {
        program.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(Math.max(1, frame.length));
            MemorySegment.copy(frame, 0, in, JAVA_BYTE, 0, frame.length);
            int outCap = frame.length + 4096;
            MemorySegment out = arena.allocate(outCap);
            MemorySegment attr = BpfAttr.allocate(arena);
            attr.set(JAVA_INT, PROG_FD, program.rawFd());
            attr.set(JAVA_INT, DATA_SIZE_IN, frame.length);
            attr.set(JAVA_INT, DATA_SIZE_OUT, outCap);
            attr.set(JAVA_LONG, DATA_IN, in.address());
            attr.set(JAVA_LONG, DATA_OUT, out.address());
            attr.set(JAVA_INT, REPEAT, repeat);
            if (ingressIfindex != 0) {
                MemorySegment ctx = arena.allocate(XDP_MD_SIZE, 4);
                ctx.set(JAVA_INT, 4, frame.length);     // data_end (data and data_meta stay 0)
                ctx.set(JAVA_INT, 12, ingressIfindex);
                ctx.set(JAVA_INT, 16, rxQueueIndex);
                attr.set(JAVA_INT, CTX_SIZE_IN, XDP_MD_SIZE);
                attr.set(JAVA_LONG, CTX_IN, ctx.address());
            }
            BpfAttr.call(BpfCommand.PROG_TEST_RUN, attr, program.name() + ", " + frame.length + "-byte frame",
                    errno -> errno == Errno.EINVAL
                            ? "the kernel refused the frame or context: XDP test frames must be 14 bytes (an"
                            + " Ethernet header) up to about a page unless the program has frags; a queue index"
                            + " must exist on the ingress device"
                            : null);
            int outLen = Math.min(attr.get(JAVA_INT, DATA_SIZE_OUT), outCap);
            byte[] dataOut = new byte[outLen];
            MemorySegment.copy(out, JAVA_BYTE, 0, dataOut, 0, outLen);
            return new TestRunResult(attr.get(JAVA_INT, RETVAL), attr.get(JAVA_INT, DURATION), dataOut);
        }
    }
}
