package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.internal.StringUtil;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.xsk.Buffers;
import org.nettyxdp.xsk.XdpFastPath;

import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.NotYetConnectedException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Sends what a channel's outbound buffer holds: each datagram through AF_XDP where the fast path takes
 * it, else through the companion kernel socket. A {@link SegmentedDatagramPacket} is sent as its
 * segments, each its own datagram, as epoll does with {@code UDP_SEGMENT}. When the TX ring or the
 * socket buffer is full, the rest waits for a retry scheduled on the event loop; when nothing at all
 * could be sent for the drain timeout, the waiting writes fail with a {@link TxDrainTimeoutException}.
 * Event-loop confined.
 */
final class DatagramWriter {
    /** Delay before retrying a write that found no room. */
    private static final long NO_ROOM_RETRY_MICROS = 50;

    private static final String EXPECTED_TYPES = " (expected: " + StringUtil.simpleClassName(DatagramPacket.class)
            + ", " + StringUtil.simpleClassName(AddressedEnvelope.class) + '<'
            + StringUtil.simpleClassName(ByteBuf.class) + ", " + StringUtil.simpleClassName(InetSocketAddress.class)
            + ">, " + StringUtil.simpleClassName(ByteBuf.class) + ')';

    private final CompanionSocket companion;
    private final XdpChannelMetrics.SlowPathCounters counters;
    private final Runnable retry;
    private final IntSupplier drainTimeoutMillis;
    private boolean retryScheduled;
    /** Whether the last write ended waiting for room, and since when nothing has been sent. */
    private boolean stalled;
    private long stalledSince;
    /** Datagrams (or segments) sent so far: a write that sends none makes no progress. */
    private long sends;
    /** An error the kernel reported with nothing to read, for the next write of a connected channel. */
    private int pendingErrno;
    /** Bytes of the current segmented packet already sent (its leading segments). */
    private int segmentsSent;

    /**
     * {@code flush} is what the retry runs: typically the channel's flush; {@code drainTimeoutMillis}
     * is read at each stall.
     */
    DatagramWriter(CompanionSocket companion, XdpChannelMetrics.SlowPathCounters counters,
                   IntSupplier drainTimeoutMillis, Runnable flush) {
        this.companion = companion;
        this.counters = counters;
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.retry = () -> {
            retryScheduled = false;
            flush.run();
        };
    }

    /** Remembers {@code errno} to fail the next write with (a connected channel's ICMP error). */
    void setPendingError(int errno) {
        pendingErrno = errno;
    }

    /**
     * Writes until {@code in} is empty or nothing more fits now.
     *
     * @param fp        the fast path, or null
     * @param remote    the connected peer, or null
     * @param connected whether the channel is connected
     */
    void write(ChannelOutboundBuffer in, XdpFastPath fp, InetSocketAddress remote, boolean connected,
               EventLoop loop) {
        boolean waiting = false;
        long sendsBefore = sends;
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    break;
                }
                ByteBuf data;
                InetSocketAddress to;
                if (msg instanceof AddressedEnvelope<?, ?> e) {
                    data = (ByteBuf) e.content();
                    to = (InetSocketAddress) e.recipient();
                } else {
                    data = (ByteBuf) msg;
                    to = null;
                }
                boolean viaConnect = to == null;
                if (viaConnect) {
                    to = remote;
                    if (to == null) {
                        in.remove(new NotYetConnectedException());
                        continue;
                    }
                }
                if (pendingErrno != 0 && connected) {
                    int errno = pendingErrno;
                    pendingErrno = 0;
                    in.remove(sendError(errno));
                    continue;
                }
                int segmentSize = msg instanceof SegmentedDatagramPacket s ? s.segmentSize() : 0;
                Outcome outcome = segmentSize > 0 && data.readableBytes() > segmentSize
                        ? sendSegments(fp, data, segmentSize, to, viaConnect)
                        : send(fp, data, to, viaConnect);
                if (outcome == Outcome.SENT) {
                    sends++;
                    in.remove();
                } else if (outcome == Outcome.WAIT) {
                    waiting = true;
                    break;
                } else {
                    in.remove(outcome.error);
                }
            }
        } finally {
            if (fp != null) {
                fp.flush();
            }
        }
        if (waiting) {
            waiting = !timedOut(in, fp, sends != sendsBefore);
        } else {
            stalled = false;
        }
        if (waiting && !retryScheduled) {
            retryScheduled = true;
            loop.schedule(retry, NO_ROOM_RETRY_MICROS, TimeUnit.MICROSECONDS);
        }
    }

    /**
     * The write ended waiting for room: starts the stall clock if it sent something (or was not stalled),
     * else, once the clock has run for the drain timeout, fails every waiting write. True if it did.
     */
    private boolean timedOut(ChannelOutboundBuffer in, XdpFastPath fp, boolean progressed) {
        long now = System.nanoTime();
        if (progressed || !stalled) {
            stalled = true;
            stalledSince = now;
            return false;
        }
        int millis = drainTimeoutMillis.getAsInt();
        if (now - stalledSince < TimeUnit.MILLISECONDS.toNanos(millis)) {
            return false;
        }
        stalled = false;
        segmentsSent = 0;
        int failed = in.size();
        TxDrainTimeoutException cause = new TxDrainTimeoutException((fp != null
                ? "the TX ring of " + fp.link().name() : "the socket buffer") + " took no datagram for " + millis
                + " ms (XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS); " + failed + " waiting write(s) failed");
        while (in.remove(cause)) {
            // fail them all
        }
        counters.txDrainTimeouts += failed;
        return true;
    }

    /** Sends the segments of {@code data} not sent yet; all of them, or as many as fit before WAIT. */
    private Outcome sendSegments(XdpFastPath fp, ByteBuf data, int segmentSize, InetSocketAddress to,
                                 boolean viaConnect) {
        int start = data.readerIndex();
        int length = data.readableBytes();
        while (segmentsSent < length) {
            int len = Math.min(segmentSize, length - segmentsSent);
            Outcome outcome = send(fp, data.slice(start + segmentsSent, len), to, viaConnect);
            if (outcome == Outcome.WAIT) {
                return outcome;
            }
            if (outcome != Outcome.SENT) {
                segmentsSent = 0;
                return outcome;
            }
            sends++;
            segmentsSent += len;
        }
        segmentsSent = 0;
        return Outcome.SENT;
    }

    private Outcome send(XdpFastPath fp, ByteBuf data, InetSocketAddress to, boolean viaConnect) {
        if (fp != null) {
            XdpFastPath.SendResult r = fp.send(data, to);
            if (r == XdpFastPath.SendResult.QUEUED) {
                return Outcome.SENT;
            }
            if (r == XdpFastPath.SendResult.NO_ROOM) {
                return Outcome.WAIT;
            }
        }
        int len = data.readableBytes();
        if (len > CompanionSocket.MAX_DATAGRAM) {
            return Outcome.failed(new SocketException("datagram of " + len + " bytes is too large for UDP"));
        }
        Buffers.copy(data, companion.scratch(), 0, len);
        // counted before the send, so a peer that already has the reply sees it counted
        counters.txPackets++;
        counters.txBytes += len;
        int r = companion.sendScratch(len, viaConnect ? null : to);
        if (r >= 0) {
            return Outcome.SENT;
        }
        counters.txPackets--;
        counters.txBytes -= len;
        return CompanionSocket.isTransient(-r) ? Outcome.WAIT : Outcome.failed(sendError(-r));
    }

    /** {@code msg} if the channel can write it, else an exception naming the types it takes. */
    static Object checkOutbound(Object msg) {
        if (msg instanceof DatagramPacket p) {
            checkResolved(p.recipient());
            return p;
        }
        if (msg instanceof ByteBuf) {
            return msg;
        }
        if (msg instanceof AddressedEnvelope<?, ?> e && e.content() instanceof ByteBuf) {
            SocketAddress recipient = e.recipient();
            if (recipient == null || recipient instanceof InetSocketAddress) {
                if (recipient != null) {
                    checkResolved((InetSocketAddress) recipient);
                }
                return msg;
            }
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + EXPECTED_TYPES);
    }

    private static void checkResolved(InetSocketAddress address) {
        if (address != null && address.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
    }

    static Exception sendError(int errno) {
        SyscallException e = new SyscallException("sendto", errno);
        if (errno == Errno.ECONNREFUSED) {
            PortUnreachableException p = new PortUnreachableException(e.getMessage());
            p.initCause(e);
            return p;
        }
        return e;
    }

    /** How one send went: sent, no room now, or failed with {@link #error}. */
    private static final class Outcome {
        static final Outcome SENT = new Outcome(null);
        static final Outcome WAIT = new Outcome(null);

        final Exception error;

        private Outcome(Exception error) {
            this.error = error;
        }

        static Outcome failed(Exception error) {
            return new Outcome(error);
        }
    }
}
