package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.bpf.BpfProgram;
import org.nettyxdp.bpf.CounterMap;
import org.nettyxdp.bpf.XdpDropProgram;
import org.nettyxdp.bpf.XdpLink;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.sys.Syscalls;

/**
 * Counts replies arriving at the client's veth with XDP_DROP + counter (DRV unless told), so
 * counting costs no socket.
 */
final class ReplyCounter implements AutoCloseable {
    private final CounterMap counters;
    private final BpfProgram prog;
    private final XdpLink link;

    ReplyCounter(String ifName) throws Exception {
        this(ifName, XdpMode.DRV);
    }

    ReplyCounter(String ifName, XdpMode mode) throws Exception {
        counters = CounterMap.create("nxb_replies", 1);
        try {
            prog = XdpDropProgram.load(counters);
            link = XdpLink.attach(prog, Syscalls.ifNameToIndex(ifName), mode);
        } catch (Exception e) {
            counters.close();
            throw e;
        }
    }

    long count() throws Exception {
        return counters.sum(XdpDropProgram.PACKETS);
    }

    @Override
    public void close() {
        link.close();
        prog.close();
        counters.close();
    }
}
