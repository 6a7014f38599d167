package org.nettyxdp.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;

import java.net.PortUnreachableException;

/**
 * The slow-path read loop of an {@link XdpDatagramChannel}: the datagrams and socket errors of its
 * companion kernel socket, handed to the pipeline as a NIO channel would. Event-loop confined.
 */
final class CompanionReader {
    private final XdpDatagramChannel channel;
    private final CompanionSocket companion;
    private final XdpChannelMetrics.SlowPathCounters counters;
    private final DatagramWriter writer;

    CompanionReader(XdpDatagramChannel channel, CompanionSocket companion,
                    XdpChannelMetrics.SlowPathCounters counters, DatagramWriter writer) {
        this.channel = channel;
        this.companion = companion;
        this.counters = counters;
        this.writer = writer;
    }

    /** Reads what the socket holds, as far as the channel's read handle goes on. */
    void read() {
        RecvByteBufAllocator.ExtendedHandle h = channel.startRead();
        Throwable error = null;
        channel.reading = true;
        try {
            for (;;) {
                int n = companion.receiveScratch();
                if (n < 0) {
                    if (-n != Errno.EAGAIN) {
                        error = readError(-n);
                    }
                    break;
                }
                ByteBuf buf = h.allocate(channel.alloc());
                if (buf.writableBytes() < n) {
                    buf.release();
                    buf = channel.alloc().directBuffer(n);
                }
                buf.writeBytes(companion.scratch().asSlice(0, n).asByteBuffer());
                counters.rxPackets++;
                counters.rxBytes += n;
                if (!channel.fireRead(h, new DatagramPacket(buf, channel.localAddress(), companion.lastSender()), n)) {
                    break;
                }
            }
        } finally {
            channel.reading = false;
            channel.readComplete(h);
        }
        if (error != null) {
            channel.pipeline().fireExceptionCaught(error);
        }
    }

    /** A pending socket error with nothing to read: remember it for the next write (or report it). */
    void error() {
        int errno = companion.takeError();
        if (errno == 0) {
            return;
        }
        if (channel.readPending || channel.config().isAutoRead()) {
            channel.pipeline().fireExceptionCaught(readError(errno));
        } else {
            writer.setPendingError(errno);
        }
    }

    private Throwable readError(int errno) {
        if (errno == Errno.ECONNREFUSED && channel.isConnected()) {
            PortUnreachableException e = new PortUnreachableException("recvfrom failed: ECONNREFUSED");
            e.initCause(new SyscallException("recvfrom", errno));
            return e;
        }
        return new SyscallException("recvfrom", errno);
    }
}
