package org.nettyxdp.channel;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.xsk.FastPathBinder;
import org.nettyxdp.xsk.FastPathSet;
import org.nettyxdp.xsk.PortTakenException;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Opens an {@link XdpDatagramChannel}'s fast path, for a bind or for a bind the kernel made by itself,
 * and lets it apply network changes on the channel's event loop and re-watch its sockets.
 */
final class FastPathOpener implements FastPathSet.Owner {
    /** Under the channel's name: these are the channel's messages. */
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpDatagramChannel.class);

    private final XdpDatagramChannel channel;
    private final CompanionSocket companion;
    /** An implicit bind (first write, connect without bind) was given its chance of a fast path. */
    private boolean implicitTried;

    FastPathOpener(XdpDatagramChannel channel, CompanionSocket companion) {
        this.channel = channel;
        this.companion = companion;
    }

    /**
     * AF_XDP for a bind to {@code ip} (wildcard: on INTERFACE, else on every interface) at
     * {@code local}, or null where the kernel socket alone serves.
     */
    FastPathSet open(InetAddress ip, InetSocketAddress local) throws IOException {
        XdpDatagramChannelConfig config = channel.config();
        try {
            return FastPathBinder.open(ip, config.getInterfaceName(), local, config.fastPathSettings(), this);
        } catch (PortTakenException e) {
            // steering is keyed by (port, address): another XDP channel of this process has exactly this
            // port and address on this interface (possible with SO_REUSEADDR/SO_REUSEPORT); this one
            // serves it through the kernel socket, like NIO
            logger.warn("{}: {}; this channel uses the kernel socket only", channel, e.getMessage());
            return null;
        }
    }

    /** True once an implicit bind had its chance of a fast path. */
    boolean implicitTried() {
        return implicitTried;
    }

    /**
     * After the kernel bound the channel by itself (a first send to {@code destination}, or a connect
     * to it), AF_XDP on the interface it routes there through; null (the kernel socket alone in
     * charge, as for a bind whose interface cannot attach) on failure or when tried before.
     */
    FastPathSet openImplicit(InetSocketAddress destination) {
        if (implicitTried) {
            return null;
        }
        implicitTried = true;
        try {
            InetSocketAddress l = companion.localAddress();
            if (l == null || l.getPort() == 0) {
                implicitTried = false; // not bound yet (the send did not happen): try again next time
                return null;
            }
            channel.boundImplicitly(l);
            return FastPathBinder.openImplicit(destination, l, channel.config().fastPathSettings(), this);
        } catch (IOException | RuntimeException e) {
            logger.debug("{}: no fast path for the implicit bind: {}", channel, e.getMessage());
            return null;
        }
    }

    @Override
    public void execute(Runnable task) {
        if (!channel.isOpen() || !channel.isRegistered()) {
            return;
        }
        try {
            channel.eventLoop().execute(() -> {
                if (channel.isOpen()) {
                    task.run();
                }
            });
        } catch (RejectedExecutionException e) {
            // the loop is shutting down, and the channel with it
        }
    }

    @Override
    public void schedule(Runnable task, long delayNanos) {
        if (!channel.isOpen() || !channel.isRegistered()) {
            return;
        }
        try {
            channel.eventLoop().schedule(() -> {
                if (channel.isOpen()) {
                    task.run();
                }
            }, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the loop is shutting down, and the channel with it
        }
    }

    @Override
    public void socketsChanging() {
        channel.unwatchSockets();
    }

    @Override
    public void socketsChanged() {
        channel.socketsChanged();
    }
}
