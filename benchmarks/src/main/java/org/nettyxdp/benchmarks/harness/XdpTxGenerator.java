package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.socket.CompletionRing;
import org.nettyxdp.socket.TxRing;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The load generator: an AF_XDP socket per queue on the peer veth, TX only, built on our own core
 * layer. Every frame of the UMEM is written once with the same Ethernet/IPv4/UDP datagram (full IP
 * and UDP checksums); the loop then only recycles completed frames into the TX ring in batches and
 * kicks the kernel. Nothing is allocated and no byte is written per packet.
 *
 * <p>Must be constructed and {@link #run run} on a thread inside the peer namespace; not thread-safe
 * except {@link #sent()} and {@link #stop()}.
 */
final class XdpTxGenerator implements Load {
    /**
     * Descriptors per pass and kick. The socket's TX budget is raised to the ring size
     * ({@code XDP_MAX_TX_SKB_BUDGET}, Linux 6.17+), so one {@code sendto} sends the whole batch; older
     * kernels send 32 per kick and the loop kicks again while descriptors wait.
     */
    private static final int BATCH = Integer.getInteger("bench.genBatch", 128);
    /** {@code bench.genYield} (default true): yield the CPU after a pass in which nothing completed. */
    private static final boolean YIELD = Boolean.parseBoolean(System.getProperty("bench.genYield", "true"));
    private static final int FRAME_SIZE = 2048;
    private static final int FRAMES_PER_QUEUE = 4096;
    private static final int RING = 2048;
    private static final VarHandle SENT;
    private static final VarHandle PASSES;
    private static final VarHandle STARVED;
    private static final VarHandle KICKS;
    private static final VarHandle HELD;

    static {
        try {
            SENT = MethodHandles.lookup().findVarHandle(XdpTxGenerator.class, "sentCount", long.class);
            PASSES = MethodHandles.lookup().findVarHandle(XdpTxGenerator.class, "passCount", long.class);
            STARVED = MethodHandles.lookup().findVarHandle(XdpTxGenerator.class, "starvedCount", long.class);
            KICKS = MethodHandles.lookup().findVarHandle(XdpTxGenerator.class, "kickCount", long.class);
            HELD = MethodHandles.lookup().findVarHandle(XdpTxGenerator.class, "heldCount", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Umem umem;
    private final XdpSocket[] sockets;
    private final long[][] free;
    private final int[] freeCount;
    private final int frameLen;
    private volatile boolean stop;
    @SuppressWarnings("unused") // through SENT
    private long sentCount;
    @SuppressWarnings("unused") // through PASSES, STARVED, KICKS
    private long passCount;
    @SuppressWarnings("unused")
    private long starvedCount;
    @SuppressWarnings("unused")
    private long kickCount;
    @SuppressWarnings("unused")
    private long heldCount;
    private java.util.function.LongSupplier window;
    private int windowSize;
    private final double rate = Double.parseDouble(System.getProperty("bench.genRate", "0"));

    XdpTxGenerator(BenchHost host, int dstPort, int payload) throws SyscallException {
        int queues = host.queues();
        int ifindex = Syscalls.ifNameToIndex(host.peerIf());
        this.umem = Umem.allocate(new UmemConfig(FRAME_SIZE, FRAMES_PER_QUEUE * Integer.highestOneBit(
                Math.max(1, queues * 2 - 1)), 0, 0));
        this.sockets = new XdpSocket[queues];
        this.free = new long[queues][FRAMES_PER_QUEUE];
        this.freeCount = new int[queues];
        byte[] frame = frame(host.peerMac(), host.hostMac(), host.peerIp(), host.hostIp(), 40000, dstPort, payload);
        this.frameLen = frame.length;
        MemorySegment region = umem.region();
        try {
            for (int q = 0; q < queues; q++) {
                XdpSocketConfig cfg = XdpSocketConfig.defaults(ifindex, q).withZeroCopy(ZeroCopyMode.OFF)
                        .withRingSizes(RING, RING, RING, RING);
                sockets[q] = q == 0 ? XdpSocket.open(cfg, umem) : XdpSocket.openShared(cfg, sockets[0]);
                try {
                    Syscalls.setsockopt(sockets[q].fd(), 283, 9, RING, "XDP_MAX_TX_SKB_BUDGET"); // SOL_XDP
                } catch (SyscallException e) {
                    // before Linux 6.17: 32 descriptors per sendto
                }
                for (int i = 0; i < FRAMES_PER_QUEUE; i++) {
                    long addr = umem.allocateFrame();
                    MemorySegment.copy(frame, 0, region, JAVA_BYTE, addr, frame.length);
                    free[q][freeCount[q]++] = addr;
                }
            }
        } catch (SyscallException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Sends until {@link #stop()}: recycles completions, fills the TX ring in batches, kicks only while
     * descriptors wait on the ring. With {@code bench.genRate} (packets per second over all queues) it
     * paces itself to that offered load (a token bucket checked each pass), so two rows can be offered
     * the same load.
     */
    @Override
    public void run() {
        int queues = sockets.length;
        long sent = 0;
        long passes = 0;
        long starved = 0;
        long kicks = 0;
        long held = 0;
        long start = System.nanoTime();
        long allowed = 0;
        long served = 0;
        long lost = 0;
        long progress = start;
        long sentBefore = 0;
        long yields = 0;
        while (!stop) {
            passes++;
            int budget = BATCH;
            if (rate > 0) {
                long due = (long) ((System.nanoTime() - start) * rate / 1e9);
                budget = (int) Math.min(BATCH, due - allowed);
                if (budget <= 0) {
                    Thread.onSpinWait();
                    budget = 0;
                }
            }
            if (window != null && allowed - lost - served + budget > windowSize) {
                long now = System.nanoTime();
                long s = window.getAsLong();
                if (s != served) {
                    served = s;
                    progress = now;
                } else if (now - progress > 1_000_000) {
                    lost = allowed - served; // nothing came back for 1 ms: what is out was dropped on the way
                    progress = now;
                }
                budget = (int) Math.max(0, Math.min(budget, windowSize - (allowed - lost - served)));
                if (budget == 0) {
                    held++;
                    Thread.onSpinWait();
                }
            }
            for (int q = 0; q < queues; q++) {
                XdpSocket xsk = sockets[q];
                long[] f = free[q];
                int fc = freeCount[q];
                CompletionRing comp = xsk.completion();
                int c = comp.peek(RING);
                for (int i = 0; i < c; i++) {
                    f[fc++] = comp.addr(i);
                }
                comp.release(c);
                sent += c;
                TxRing tx = xsk.tx();
                int want = Math.min(budget, fc);
                if (budget > 0 && fc == 0) {
                    starved++;
                }
                int n = want == 0 ? 0 : tx.reserve(want);
                for (int i = 0; i < n; i++) {
                    tx.put(i, f[--fc], frameLen, 0);
                }
                tx.submit(n);
                allowed += n;
                freeCount[q] = fc;
                if (tx.entries() > 0) {
                    xsk.kickTx();
                    kicks++;
                }
            }
            SENT.setOpaque(this, sent);
            if (sent == sentBefore && YIELD) {
                // nothing completed: the kernel's side (the receiving veth's NAPI thread, which frees our
                // frames) needs the CPU this thread would spend kicking a ring it cannot take yet
                Thread.yield();
                yields++;
            }
            sentBefore = sent;
            if ((passes & 1023) == 0) {
                PASSES.setOpaque(this, passes);
                STARVED.setOpaque(this, starved);
                KICKS.setOpaque(this, kicks);
                HELD.setOpaque(this, held);
            }
        }
    }

    /**
     * Closed loop: keeps at most {@code size} packets sent but not yet counted by {@code served} (the
     * row's own counter: replies at the peer, or datagrams the server took), so the offered load follows
     * what the server takes instead of flooding the kernel's RX path with frames it can only drop. Must
     * be called before {@link #run}.
     */
    void limitInFlight(java.util.function.LongSupplier served, int size) {
        this.window = served;
        this.windowSize = size;
    }

    /** Passes of the send loop, passes that found no free frame, kicks, passes held by the window: so far. */
    long[] loopCounts() {
        return new long[] {(long) PASSES.getOpaque(this), (long) STARVED.getOpaque(this),
                (long) KICKS.getOpaque(this), (long) HELD.getOpaque(this)};
    }

    /** Frames the kernel has completed (sent or dropped by the veth) so far. */
    @Override
    public long sent() {
        return (long) SENT.getOpaque(this);
    }

    @Override
    public void stop() {
        stop = true;
    }

    @Override
    public void close() {
        for (XdpSocket s : sockets) {
            if (s != null) {
                s.close();
            }
        }
        try {
            umem.close();
        } catch (SyscallException ignored) {
            // the mapping goes with the process at the latest
        }
    }

    /** An Ethernet + IPv4 + UDP frame with valid IP header and UDP checksums. */
    static byte[] frame(byte[] srcMac, byte[] dstMac, InetAddress src, InetAddress dst, int srcPort, int dstPort,
                        int payload) {
        int udpLen = 8 + payload;
        int ipLen = 20 + udpLen;
        byte[] b = new byte[14 + ipLen];
        System.arraycopy(dstMac, 0, b, 0, 6);
        System.arraycopy(srcMac, 0, b, 6, 6);
        b[12] = 0x08;
        b[13] = 0x00;
        int ip = 14;
        b[ip] = 0x45;
        put16(b, ip + 2, ipLen);
        put16(b, ip + 4, 1);
        b[ip + 6] = 0x40; // DF
        b[ip + 8] = 64;
        b[ip + 9] = 17;
        System.arraycopy(src.getAddress(), 0, b, ip + 12, 4);
        System.arraycopy(dst.getAddress(), 0, b, ip + 16, 4);
        put16(b, ip + 10, fold(sum(b, ip, 20, 0)));
        int udp = ip + 20;
        put16(b, udp, srcPort);
        put16(b, udp + 2, dstPort);
        put16(b, udp + 4, udpLen);
        for (int i = 0; i < payload; i++) {
            b[udp + 8 + i] = (byte) ('a' + i % 26);
        }
        long pseudo = sum(b, ip + 12, 8, 0) + 17 + udpLen;
        int c = fold(sum(b, udp, udpLen, pseudo));
        put16(b, udp + 6, c == 0 ? 0xffff : c);
        return b;
    }

    private static long sum(byte[] b, int off, int len, long acc) {
        for (int i = 0; i + 1 < len; i += 2) {
            acc += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            acc += (b[off + len - 1] & 0xff) << 8;
        }
        return acc;
    }

    private static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) (~s & 0xffff);
    }

    private static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }
}
