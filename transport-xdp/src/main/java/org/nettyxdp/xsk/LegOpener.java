package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.socket.BindBusyException;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the legs of a {@link FastPathSet} without ever blocking its event loop: at once, or, while a
 * queue is still busy with a socket closed moments ago, retried later on the event loop as
 * {@link BusyQueueRetry} says. Event-loop confined.
 */
final class LegOpener {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(FastPathSet.class);

    private final FastPathSet set;
    private final FastPathSet.Owner owner;
    private final InetSocketAddress local;
    private final InetAddress boundIp;
    private final FastPathSettings settings;
    /** Fast paths waiting for a busy queue, retried on the event loop. */
    private final List<FastPathOpening> pending = new ArrayList<>();

    LegOpener(FastPathSet set, FastPathSet.Owner owner, InetSocketAddress local, InetAddress boundIp,
              FastPathSettings settings) {
        this.set = set;
        this.owner = owner;
        this.local = local;
        this.boundIp = boundIp;
        this.settings = settings;
    }

    /**
     * Opens a fast path on {@code link} at once, or, while a queue is still busy, later on the event
     * loop (then null now; the leg joins the set when ready, or a WARN says why not after
     * {@link FastPathSet#BUSY_TIMEOUT_MILLIS}).
     */
    XdpFastPath open(LinkInfo link) throws IOException {
        FastPathOpening opening = new FastPathOpening(link, local, boundIp, false, settings);
        try {
            return opening.attempt();
        } catch (BindBusyException e) {
            logger.debug("{}: a queue of {} is busy; the kernel socket serves until it is free", local, link.name());
            pending.add(opening);
            BusyQueueRetry busy = new BusyQueueRetry(owner::schedule);
            busy.retryLater(e, () -> retry(opening, link, busy));
            return null;
        }
    }

    private void retry(FastPathOpening opening, LinkInfo link, BusyQueueRetry busy) {
        if (!pending.remove(opening)) {
            return; // abandoned by close()
        }
        if (set.isClosed()) {
            opening.abandon();
            return;
        }
        try {
            XdpFastPath leg = opening.attempt();
            set.add(leg);
        } catch (BindBusyException e) {
            if (!busy.retryLater(e, () -> retry(opening, link, busy))) {
                opening.abandon();
                logger.warn("{}: a queue of {} was still busy after {} ms; the kernel socket serves it", local,
                        link.name(), FastPathSet.BUSY_TIMEOUT_MILLIS);
                return;
            }
            pending.add(opening);
        } catch (IOException | RuntimeException e) {
            logger.warn("{}: cannot open the fast path on {}: {}; the kernel socket serves it", local, link.name(),
                    e.getMessage());
        }
    }

    /** Gives back every opening still waiting for a busy queue. */
    void close() {
        for (FastPathOpening opening : pending) {
            opening.abandon();
        }
        pending.clear();
    }
}
