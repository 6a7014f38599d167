package org.nettyxdp.benchmarks;

import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * For the ring and buffer microbenchmarks: a veth pair whose peer end lives in a private network
 * namespace, and one AF_XDP socket (copy mode, queue 0) with its UMEM on the host end. No XDP
 * program is attached, so nothing is ever received. Stands in for the kernel on the fill and TX
 * rings by moving their consumer index ({@link #consumeFill()}, {@link #consumeTx()}): the rings are
 * shared memory, and the benchmarks measure our side of them. Needs root.
 */
final class BenchVeth implements AutoCloseable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final int SOL_XDP = 283;
    private static final int XDP_MMAP_OFFSETS = 1;
    private static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;

    final String hostIf;
    final String ns;
    final Umem umem;
    final XdpSocket xsk;
    private final MemorySegment fillMap;
    private final long fillProducer;
    private final long fillConsumer;
    private final long fillDesc;
    private final int fillMask;
    private final long txProducer;
    private final long txConsumer;

    BenchVeth(int ringSize) throws SyscallException {
        String id = Long.toString(ProcessHandle.current().pid() % 100000);
        hostIf = "nxjh" + id;
        ns = "nxjns" + id;
        run("ip", "netns", "add", ns);
        try {
            run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", "nxjp" + id, "netns", ns);
            run("ip", "link", "set", hostIf, "up");
            run("ip", "-n", ns, "link", "set", "nxjp" + id, "up");
            umem = Umem.allocate(new UmemConfig(2048, 4096, 0, 0));
            xsk = XdpSocket.open(XdpSocketConfig.defaults(Syscalls.ifNameToIndex(hostIf), 0)
                    .withZeroCopy(ZeroCopyMode.OFF).withRingSizes(ringSize, ringSize, ringSize, ringSize), umem);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment off = a.allocate(128, 8);
                Syscalls.getsockopt(xsk.fd(), SOL_XDP, XDP_MMAP_OFFSETS, off, "XDP_MMAP_OFFSETS");
                txProducer = off.get(JAVA_LONG, 32);
                txConsumer = off.get(JAVA_LONG, 40);
                fillProducer = off.get(JAVA_LONG, 64);
                fillConsumer = off.get(JAVA_LONG, 72);
                fillDesc = off.get(JAVA_LONG, 64 + 16);
                fillMask = ringSize - 1;
                long fillLen = off.get(JAVA_LONG, 64 + 16) + (long) ringSize * 8;
                // a second view of the fill ring's pages: the FillRing class keeps its own mapping private
                fillMap = Syscalls.mmap(fillLen, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED, xsk.fd(),
                        XDP_UMEM_PGOFF_FILL_RING, "fill ring (benchmark view)");
            }
        } catch (SyscallException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Plays the kernel: takes everything produced on the fill ring. */
    void consumeFill() {
        INT.setRelease(fillMap, fillConsumer, (int) INT.getAcquire(fillMap, fillProducer));
    }

    /**
     * Plays the kernel receiving: takes up to {@code out.length} frame addresses from the fill ring
     * into {@code out}; returns how many.
     */
    int takeFill(long[] out) {
        int cons = (int) INT.getAcquire(fillMap, fillConsumer);
        int prod = (int) INT.getAcquire(fillMap, fillProducer);
        int n = Math.min(out.length, prod - cons);
        for (int i = 0; i < n; i++) {
            out[i] = fillMap.get(JAVA_LONG, fillDesc + (long) ((cons + i) & fillMask) * 8);
        }
        INT.setRelease(fillMap, fillConsumer, cons + n);
        return n;
    }

    /** Plays the kernel: takes everything produced on the TX ring (without sending it). */
    void consumeTx() {
        MemorySegment m = xsk.tx().mapping();
        INT.setRelease(m, txConsumer, (int) INT.getAcquire(m, txProducer));
    }

    @Override
    public void close() {
        if (xsk != null) {
            xsk.close();
        }
        if (fillMap != null) {
            try {
                Syscalls.munmap(fillMap);
            } catch (SyscallException ignored) {
                // gone with the process
            }
        }
        if (umem != null) {
            try {
                umem.close();
            } catch (SyscallException ignored) {
                // gone with the process
            }
        }
        tryRun("ip", "link", "del", hostIf);
        tryRun("ip", "netns", "del", ns);
    }

    private static void run(String... cmd) {
        if (tryRun(cmd) != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (root needed)");
        }
    }

    private static int tryRun(String... cmd) {
        try {
            Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            if (rc != 0) {
                System.err.println(String.join(" ", cmd) + ": " + out.trim());
            }
            return rc;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
