package org.nettyxdp.channel;

import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import org.nettyxdp.sys.Linux;

/**
 * What both XDP channels share: their registration with the {@link XdpIoHandler}, the epoll events
 * each of their descriptors is watched for, and the bookkeeping of a read batch.
 */
abstract class AbstractXdpChannel extends AbstractChannel {
    private IoRegistration registration;
    private RecvByteBufAllocator.ExtendedHandle allocHandle;
    private int companionEvents = -1;
    private int xskEvents = -1;
    volatile boolean open = true;
    /** A read was asked for and nothing was handed to the pipeline since. */
    boolean readPending;
    /** A read batch is under way. */
    boolean reading;

    AbstractXdpChannel() {
        super(null);
    }

    /** The companion kernel socket's descriptor, or -1 for a channel without one. */
    abstract int companionFd();

    /** How many AF_XDP sockets the channel has now, or -1 without a fast path. */
    abstract int xskCount();

    /** The descriptor of AF_XDP socket {@code i} ({@code 0 .. xskCount()-1}). */
    abstract int xskFd(int i);

    /** What the event loop drives: the channel's unsafe. */
    XdpIoHandle ioHandle() {
        return (XdpIoHandle) unsafe();
    }

    @Override
    public final boolean isOpen() {
        return open;
    }

    @Override
    protected final boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop l && l.isCompatible(ioHandle().getClass());
    }

    @Override
    protected final void doRegister(ChannelPromise promise) {
        ((IoEventLoop) eventLoop()).register(ioHandle()).addListener(f -> {
            if (f.isSuccess()) {
                registration = (IoRegistration) f.getNow();
                companionEvents = -1;
                xskEvents = -1;
                updateInterest();
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    @Override
    protected final void doDeregister() {
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
    }

    /**
     * Stops watching the descriptors, before closing them: the kernel hands a closed number to the
     * next socket at once, and an {@code EPOLL_CTL_DEL} by number at deregistration (a later task)
     * would then take that socket, perhaps another channel's on this loop, out of the epoll set.
     */
    final void cancelRegistration() {
        IoRegistration reg = registration;
        if (reg != null) {
            reg.cancel();
        }
    }

    @Override
    protected final void doBeginRead() {
        readPending = true;
        updateInterest();
    }

    /** Auto-read was cleared: no read is pending any more (any thread). */
    final void clearReadPending() {
        if (isRegistered()) {
            EventLoop loop = eventLoop();
            if (loop.inEventLoop()) {
                readPending = false;
                updateInterest();
            } else {
                loop.execute(() -> {
                    readPending = false;
                    updateInterest();
                });
            }
        } else {
            readPending = false;
        }
    }

    /** Watches the companion socket and the AF_XDP sockets for what the channel wants now. */
    final void updateInterest() {
        IoRegistration reg = registration;
        if (reg == null || !open) {
            return;
        }
        boolean wantRead = readPending || config().isAutoRead() && reading;
        // EPOLLERR alone keeps a descriptor registered without read interest
        int wanted = wantRead ? Linux.EPOLLIN | Linux.EPOLLERR : Linux.EPOLLERR;
        int companion = companionFd();
        if (companion >= 0 && wanted != companionEvents) {
            reg.submit(new XdpIoOps(companion, wanted));
            companionEvents = wanted;
        }
        int n = xskCount();
        if (n >= 0 && wanted != xskEvents) {
            for (int i = 0; i < n; i++) {
                reg.submit(new XdpIoOps(xskFd(i), wanted));
            }
            xskEvents = wanted;
        }
    }

    /** The AF_XDP sockets are about to change: stops watching every one of them. */
    final void unwatchSockets() {
        IoRegistration reg = registration;
        int n = xskCount();
        if (reg != null && n >= 0 && xskEvents != -1) {
            for (int i = 0; i < n; i++) {
                reg.submit(new XdpIoOps(xskFd(i), 0));
            }
        }
        xskEvents = -1;
    }

    /** The AF_XDP sockets changed (or came with a fast path): watches the new ones. */
    final void socketsChanged() {
        xskEvents = -1;
        updateInterest();
    }

    /** The read handle, reset for a new batch. */
    final RecvByteBufAllocator.ExtendedHandle startRead() {
        RecvByteBufAllocator.ExtendedHandle h = allocHandle;
        if (h == null) {
            h = (RecvByteBufAllocator.ExtendedHandle) unsafe().recvBufAllocHandle();
            allocHandle = h;
        }
        h.reset(config());
        return h;
    }

    /** The handle of the batch under way (after {@link #startRead()}). */
    final RecvByteBufAllocator.ExtendedHandle readHandle() {
        return allocHandle;
    }

    /** Hands one received message of {@code len} bytes to the pipeline; true to read on. */
    final boolean fireRead(RecvByteBufAllocator.ExtendedHandle h, Object msg, int len) {
        h.attemptedBytesRead(len);
        h.lastBytesRead(Math.max(1, len));
        h.incMessagesRead(1);
        readPending = false;
        pipeline().fireChannelRead(msg);
        return open && h.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER);
    }

    /** Ends a read batch: read complete, and no more read interest unless a read is pending or auto. */
    final void readComplete(RecvByteBufAllocator.ExtendedHandle h) {
        h.readComplete();
        pipeline().fireChannelReadComplete();
        if (!readPending && !config().isAutoRead()) {
            updateInterest();
        }
    }
}
