package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.socket.BindBusyException;
import org.nettyxdp.socket.XdpSocketConfig;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A fast path being opened queue by queue, never blocking: {@link #attempt()} binds the sockets not
 * bound yet and, when a queue is still busy (its previous socket closed moments ago), throws a
 * {@link BindBusyException} keeping what it has, to be called again later; or {@link #abandon()}
 * gives everything back. Event-loop confined.
 */
final class FastPathOpening {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpFastPath.class);

    /** Longest {@link #await} waits for busy queues, parking the calling thread between attempts. */
    private static final long BUSY_WAIT_NANOS = 2_000_000_000L;

    private final LinkInfo link;
    private final InetSocketAddress local;
    private final InetAddress boundIp;
    /** The addresses of the channel's steering entries (see {@link #steeredAddresses}), less shared ones. */
    private List<InetAddress> steered;
    private final FastPathSettings settings;
    private final XdpInterface iface;
    private final XdpSocketConfig socketConfig;
    private final QueueSocket[] queues;
    private boolean checked;
    private boolean finished;

    /**
     * Starts opening a fast path, never waiting, that steers what the kernel would deliver to the channel's socket:
     * datagrams to {@code boundIp}, or with {@code boundIp} null (the wildcard) to any local address of
     * the channel's family ({@code local}'s; an IPv6 channel also IPv4 unless {@code v6Only}). Takes the
     * interface's steering (attaching the program on first use).
     */
    FastPathOpening(LinkInfo link, InetSocketAddress local, InetAddress boundIp, boolean v6Only,
                    FastPathSettings settings) throws IOException {
        this.link = link;
        this.local = local;
        this.boundIp = boundIp;
        this.steered = steeredAddresses(local, boundIp, v6Only);
        this.settings = settings;
        this.iface = XdpInterface.acquire(link, settings.attachMode());
        this.socketConfig = QueueSocket.socketConfig(link, settings, iface.hasFrags());
        this.queues = new QueueSocket[iface.queues()];
    }

    /**
     * {@link #attempt()}s until it succeeds, parking this thread while a queue is busy (at most 2 s,
     * then abandoning and throwing the {@link BindBusyException}): off the event loop only.
     */
    XdpFastPath await() throws IOException {
        long deadline = System.nanoTime() + BUSY_WAIT_NANOS;
        for (;;) {
            try {
                return attempt();
            } catch (BindBusyException e) {
                if (System.nanoTime() - deadline > 0) {
                    abandon();
                    throw e;
                }
                LockSupport.parkNanos(e.retryAfterNanos());
            }
        }
    }

    /**
     * Binds what is not bound yet and, once every queue has its socket, steers the port to them.
     *
     * @throws BindBusyException a queue is still busy: nothing is given back; attempt again later
     * @throws IOException       any other failure, after giving everything back
     */
    XdpFastPath attempt() throws IOException {
        if (finished) {
            throw new IllegalStateException("already opened or abandoned");
        }
        try {
            if (!checked) {
                steered = unshared(local.getPort(), steered, local.getAddress() instanceof Inet6Address);
                checked = true;
            }
            for (int q = 0; q < queues.length; q++) {
                if (queues[q] == null) {
                    queues[q] = QueueSocket.open(link, q, settings, socketConfig, true);
                }
            }
            boolean multiBuffer = iface.hasFrags();
            for (QueueSocket qs : queues) {
                multiBuffer &= qs.queue.isMultiBuffer();
            }
            XdpFastPath fp = new XdpFastPath(iface, local, boundIp, steered, queues, settings, multiBuffer);
            // the port's group (SO_REUSEPORT: shared with other channels) points the queues at us;
            // frames longer than the MTU (aggregates) and, without multi-buffer, than a frame go to the kernel
            try {
                fp.join(settings.reusePort());
            } catch (IOException | RuntimeException e) {
                fp.discardAfterFailedJoin();
                throw e;
            }
            finished = true;
            logger.info("{} on {}: XDP {}, {}", local, link.name(),
                    iface.attachedMode() == XdpMode.DRV ? "native" : "generic", fp.describeQueues());
            return fp;
        } catch (BindBusyException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
        }
    }

    /** Gives back every socket, queue and the interface; idempotent, a no-op once opened. */
    void abandon() {
        if (!finished) {
            release();
        }
    }

    private void release() {
        finished = true;
        // join() undoes its own steering when it fails: only sockets, queues and the interface remain
        for (int q = 0; q < queues.length; q++) {
            if (queues[q] != null) {
                queues[q].close();
            } else {
                XskQueue.discardSpare(link.index(), q);
            }
        }
        iface.release();
    }

    /**
     * {@code steered} less what another process's socket shares ({@link PortSharing}), logged; throws
     * {@link PortTakenException} when nothing is left.
     */
    private static List<InetAddress> unshared(int port, List<InetAddress> steered, boolean ipv6) throws IOException {
        List<String> shared = new ArrayList<>();
        List<InetAddress> unshared = PortSharing.unshared(port, steered, ipv6, shared);
        if (unshared.isEmpty()) {
            throw new PortTakenException(String.join("; ", shared));
        }
        for (String why : shared) {
            logger.info("{}; that part of the port stays on the kernel socket", why);
        }
        return unshared;
    }

    /** The addresses of the channel's steering entries: the bound one, or the wildcard of each family. */
    private static List<InetAddress> steeredAddresses(InetSocketAddress local, InetAddress boundIp, boolean v6Only)
            throws IOException {
        if (boundIp != null && !boundIp.isAnyLocalAddress()) {
            return List.of(boundIp);
        }
        InetAddress any4 = InetAddress.getByAddress(new byte[4]);
        if (local.getAddress() instanceof Inet6Address) {
            InetAddress any6 = InetAddress.getByAddress(new byte[16]);
            return v6Only ? List.of(any6) : List.of(any6, any4);
        }
        return List.of(any4);
    }
}
