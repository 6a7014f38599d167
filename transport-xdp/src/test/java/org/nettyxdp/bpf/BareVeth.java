package org.nettyxdp.bpf;

import java.util.concurrent.atomic.AtomicInteger;

import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

/** A veth pair (both ends in this namespace, no addresses) with unique names and {@code queues} RX/TX queues, deleted by {@link #close()}. */
final class BareVeth implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    final String name;
    final String peer;
    final int ifindex;

    private BareVeth(String name, String peer, int ifindex) {
        this.name = name;
        this.peer = peer;
        this.ifindex = ifindex;
    }

    static BareVeth create(int queues) throws SyscallException {
        String base = "nxb" + (ProcessHandle.current().pid() % 100000) + "x" + COUNTER.incrementAndGet();
        String a = base + "a";
        String b = base + "b";
        String q = Integer.toString(queues);
        BpfTestSupport.runOk("ip", "link", "add", "name", a, "numtxqueues", q, "numrxqueues", q, "type", "veth",
                "peer", "name", b, "numtxqueues", q, "numrxqueues", q);
        try {
            BpfTestSupport.runOk("ip", "link", "set", a, "up");
            BpfTestSupport.runOk("ip", "link", "set", b, "up");
            return new BareVeth(a, b, Syscalls.ifNameToIndex(a));
        } catch (RuntimeException | SyscallException e) {
            BpfTestSupport.run("ip", "link", "del", a);
            throw e;
        }
    }

    /** {@code ip -d link show dev name}. */
    String show() {
        return BpfTestSupport.runOk("ip", "-d", "link", "show", "dev", name);
    }

    @Override
    public void close() {
        BpfTestSupport.run("ip", "link", "del", name);
    }
}
