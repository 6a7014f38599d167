package org.nettyxdp.benchmarks.harness;

import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.bpf.XdpSteering;
import org.nettyxdp.socket.CompletionRing;
import org.nettyxdp.socket.FillRing;
import org.nettyxdp.socket.RxRing;
import org.nettyxdp.socket.TxRing;
import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.socket.ZeroCopyMode;
import org.nettyxdp.sys.EpollEvent;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;

/**
 * The floor of our own stack: an RX sink and an echo written directly on {@code org.nettyxdp.socket}
 * and the steering program, no Netty, no channel, no parsing. One thread pinned to a CPU, one AF_XDP
 * socket on queue 0, the same steering program, ring sizes and TX budget as the channel's fast path.
 * The sink returns every frame to the fill ring; the echo swaps the Ethernet, IP and UDP addresses in
 * place (the checksums do not change) and sends the same frame back, like a minimal C AF_XDP echo.
 * Blocks in {@code epoll_wait} when idle, as the event loop does in {@code epoll_wait}.
 */
final class RawXskServer implements AutoCloseable {
    private static final int RING = 2048;
    private static final int BATCH = 64;
    /**
     * {@code bench.kickTiming}: measure the loop thread's CPU time inside each TX kick (two clock reads per
     * kick, so off by default: the floor row stays the floor).
     */
    static final boolean KICK_TIMING = Boolean.getBoolean("bench.kickTiming");
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();
    private static final VarHandle COUNT;
    private static final VarHandle KICK_NANOS;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(RawXskServer.class, "count", long.class);
            KICK_NANOS = MethodHandles.lookup().findVarHandle(RawXskServer.class, "kickTime", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final XdpSteering steering;
    private final Umem umem;
    private final XdpSocket xsk;
    private final boolean echo;
    private final Thread thread;
    private volatile boolean stop;
    @SuppressWarnings("unused") // through COUNT
    private long count;
    @SuppressWarnings("unused") // through KICK_NANOS
    private long kickTime;

    RawXskServer(String ifName, InetAddress hostIp, int port, boolean echo, int cpu) throws Exception {
        this.echo = echo;
        int ifindex = Syscalls.ifNameToIndex(ifName);
        byte[] mac = java.util.HexFormat.ofDelimiter(":").parseHex(java.nio.file.Files.readString(
                java.nio.file.Path.of("/sys/class/net/" + ifName + "/address")).trim());
        steering = XdpSteering.open(ifindex, mac, 1, 1, 4, XdpMode.DRV, false);
        try {
            umem = Umem.allocate(new UmemConfig(4096, 8192, 0, 0));
            xsk = openRetrying(XdpSocketConfig.defaults(ifindex, 0).withZeroCopy(ZeroCopyMode.AUTO)
                    .withRingSizes(RING, RING, 4096, RING), umem);
            try {
                Syscalls.setsockopt(xsk.fd(), 283, 9, RING, "XDP_MAX_TX_SKB_BUDGET");
            } catch (Exception e) {
                // older kernel: 32 per sendto
            }
            FillRing fill = xsk.fill();
            int n = fill.reserve(4096);
            for (int i = 0; i < n; i++) {
                fill.put(i, umem.allocateFrame());
            }
            fill.submit(n);
            int slot = steering.allocateSlot();
            steering.setSocket(slot, 0, xsk.fd());
            steering.locals().add(hostIp);
            steering.putPort(port, hostIp, slot, 0);
        } catch (Exception e) {
            steering.close();
            throw e;
        }
        thread = new Thread(() -> {
            try {
                Affinity.pin(cpu);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            loop();
        }, "server-raw_xsk");
        thread.setDaemon(true);
        thread.start();
    }

    /** Binds, retrying for up to 2 s while the kernel still releases the previous row's socket on the queue. */
    private static XdpSocket openRetrying(XdpSocketConfig config, Umem umem) throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            try {
                return XdpSocket.open(config, umem);
            } catch (org.nettyxdp.socket.BindBusyException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    Thread loopThread() {
        return thread;
    }

    long count() {
        return (long) COUNT.getOpaque(this);
    }

    private void loop() {
        RxRing rx = xsk.rx();
        FillRing fill = xsk.fill();
        TxRing tx = xsk.tx();
        CompletionRing comp = xsk.completion();
        MemorySegment region = umem.region();
        long received = 0;
        long kickNanos = 0;
        int ep = -1;
        try (Arena arena = Arena.ofConfined()) {
            ep = Syscalls.epollCreate();
            MemorySegment ev = arena.allocate(EpollEvent.LAYOUT);
            EpollEvent.set(ev, Linux.EPOLLIN, xsk.fd());
            Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, xsk.fd(), ev);
            while (!stop) {
                int n = rx.peek(BATCH);
                if (n == 0) {
                    Syscalls.epollWaitRaw(ep, ev, 1, 100);
                    continue;
                }
                if (!echo) {
                    int f = fill.reserve(n);
                    for (int i = 0; i < f; i++) {
                        fill.put(i, rx.addr(i));
                    }
                    fill.submit(f);
                    for (int i = f; i < n; i++) {
                        umem.freeFrame(rx.addr(i)); // fill ring full (cannot happen: it holds every frame)
                    }
                } else {
                    int t = tx.reserve(n);
                    for (int i = 0; i < t; i++) {
                        long addr = rx.addr(i);
                        swap(region, addr);
                        tx.put(i, addr, rx.len(i), 0);
                    }
                    tx.submit(t);
                    if (t < n) {
                        int f = fill.reserve(n - t);
                        for (int i = 0; i < f; i++) {
                            fill.put(i, rx.addr(t + i));
                        }
                        fill.submit(f);
                    }
                    if (KICK_TIMING) {
                        long k0 = THREADS.getCurrentThreadCpuTime();
                        kick(xsk);
                        kickNanos += THREADS.getCurrentThreadCpuTime() - k0;
                    } else {
                        kick(xsk);
                    }
                    int c = comp.peek(RING);
                    int f = fill.reserve(c);
                    for (int i = 0; i < f; i++) {
                        fill.put(i, comp.addr(i));
                    }
                    fill.submit(f);
                    comp.release(f);
                }
                rx.release(n);
                if (fill.needsWakeup()) {
                    xsk.wakeupRx();
                }
                received += n;
                COUNT.setOpaque(this, received);
                KICK_NANOS.setOpaque(this, kickNanos);
            }
        } catch (org.nettyxdp.sys.SyscallException e) {
            throw new IllegalStateException(e);
        } finally {
            if (ep >= 0) {
                Syscalls.close(ep);
            }
        }
    }

    /**
     * Kicks until the kernel has taken everything off the TX ring, as the channel's fast path does: in
     * copy mode each {@code sendto} sends at most the TX budget synchronously and leaves the rest (or all,
     * EAGAIN, when the veth's peer ring is full) for the next kick.
     */
    private static void kick(XdpSocket xsk) {
        TxRing tx = xsk.tx();
        int pending = tx.entries();
        for (int attempts = pending / 16 + 2; pending > 0 && attempts > 0; attempts--) {
            xsk.kickTx();
            pending = tx.entries();
        }
    }

    /** CPU nanoseconds the loop spent in TX kicks ({@code sendto}: the kernel's copy-mode TX) so far, with {@link #KICK_TIMING}. */
    long kickNanos() {
        return (long) KICK_NANOS.getOpaque(this);
    }

    /** Swaps source and destination of the Ethernet, IPv4 and UDP headers (checksums unchanged). */
    private static void swap(MemorySegment r, long frame) {
        long dstMac = r.get(ValueLayout.JAVA_INT_UNALIGNED, frame) & 0xffffffffL
                | (long) (r.get(ValueLayout.JAVA_SHORT_UNALIGNED, frame + 4) & 0xffff) << 32;
        MemorySegment.copy(r, frame + 6, r, frame, 6);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, frame + 6, (int) dstMac);
        r.set(ValueLayout.JAVA_SHORT_UNALIGNED, frame + 10, (short) (dstMac >>> 32));
        long ip = frame + 14;
        int src = r.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 12);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 12, r.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 16));
        r.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 16, src);
        long udp = ip + ((r.get(ValueLayout.JAVA_BYTE, ip) & 0x0f) << 2);
        int ports = r.get(ValueLayout.JAVA_INT_UNALIGNED, udp);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, udp, Integer.rotateLeft(ports, 16));
    }

    @Override
    public void close() throws Exception {
        stop = true;
        thread.join(2000);
        steering.close();
        xsk.close();
        umem.close();
    }
}
