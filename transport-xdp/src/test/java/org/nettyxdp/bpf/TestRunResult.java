package org.nettyxdp.bpf;

/**
 * The outcome of {@code BPF_PROG_TEST_RUN}.
 *
 * @param retval        the program's return value (for XDP an {@link XdpAction} code)
 * @param durationNanos mean run time per repetition as the kernel measured it, in nanoseconds
 * @param dataOut       the packet as the program left it
 */
record TestRunResult(int retval, int durationNanos, byte[] dataOut) {
    /** {@link #retval()} as an XDP verdict. */
    XdpAction action() {
        return XdpAction.of(retval);
    }
}
