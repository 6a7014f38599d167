package org.nettyxdp.channel;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.netty.util.concurrent.ThreadAwareExecutor;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.sys.EpollEvent;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@link IoHandler} behind {@link XdpEventLoopGroup}: epoll over the AF_XDP sockets and companion
 * UDP sockets of the channels registered with it, plus an eventfd for {@link #wakeup()}.
 *
 * <p>Idle, it blocks in {@code epoll_wait} until a descriptor is ready, a task arrives or the next
 * scheduled task is due, and costs no CPU. With {@link XdpIoHandlerConfig#busyPoll() busy polling} it
 * never blocks and trades a core for latency.
 */
public final class XdpIoHandler implements IoHandler {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(XdpIoHandler.class);
    private static final long WAKEUP_DATA = -1L;

    private final ThreadAwareExecutor executor;
    private final XdpIoHandlerConfig config;
    private final IntObjectMap<Registration> byFd = new IntObjectHashMap<>();
    private final List<Registration> registrations = new ArrayList<>();
    private final XdpIoEvent event = new XdpIoEvent();
    private final AtomicInteger wakeupPending = new AtomicInteger();
    /** Threads writing the eventfd right now, plus {@link #GATE_CLOSED} once it may no longer be written. */
    private final AtomicInteger wakeupWriters = new AtomicInteger();
    private static final int GATE_CLOSED = 1 << 30;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final MemorySegment eventfdBuf;
    private final MemorySegment one;
    private final int epollFd;
    private final int eventFd;

    private XdpIoHandler(ThreadAwareExecutor executor, XdpIoHandlerConfig config) {
        this.executor = executor;
        this.config = config;
        this.events = arena.allocate(EpollEvent.SIZE * config.maxEvents(), 8);
        this.eventfdBuf = arena.allocate(8, 8);
        this.one = arena.allocateFrom(JAVA_LONG, 1L);
        int ep = -1;
        int ev = -1;
        try {
            ep = Syscalls.epollCreate();
            ev = Syscalls.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
            MemorySegment e = arena.allocate(EpollEvent.LAYOUT);
            EpollEvent.set(e, Linux.EPOLLIN, WAKEUP_DATA);
            Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, ev, e);
        } catch (SyscallException e) {
            if (ep >= 0) {
                Syscalls.close(ep);
            }
            if (ev >= 0) {
                Syscalls.close(ev);
            }
            arena.close();
            throw new IllegalStateException("cannot create the XDP event loop: " + e.getMessage(), e);
        }
        this.epollFd = ep;
        this.eventFd = ev;
    }

    /** A factory for handlers with the default configuration. */
    public static IoHandlerFactory newFactory() {
        return newFactory(new XdpIoHandlerConfig());
    }

    /** A factory for handlers with {@code config} (copied: later changes do not apply). */
    public static IoHandlerFactory newFactory(XdpIoHandlerConfig config) {
        XdpIoHandlerConfig copy = config.copy();
        return executor -> new XdpIoHandler(executor, copy);
    }

    @Override
    public int run(IoHandlerContext context) {
        // Re-arm wakeups before asking whether we may block: a task submitted after this line writes
        // the eventfd, one submitted before it makes canBlock() false.
        wakeupPending.set(0);
        int timeoutMillis = 0;
        if (context.canBlock() && !config.busyPoll()) {
            timeoutMillis = timeoutMillis(context);
        }
        long start = context.shouldReportActiveIoTime() ? System.nanoTime() : 0;
        int handled = 0;
        int n = Syscalls.epollWaitRaw(epollFd, events, config.maxEvents(), timeoutMillis);
        if (n < 0 && n != -Errno.EINTR) {
            logger.warn("epoll_wait failed: {}", Errno.name(-n));
        }
        for (int i = 0; i < n; i++) {
            long data = EpollEvent.data(events, i);
            int ev = EpollEvent.events(events, i);
            if (data == WAKEUP_DATA) {
                Syscalls.readRaw(eventFd, eventfdBuf, 8);
                continue;
            }
            Registration reg = byFd.get((int) data);
            if (reg != null && reg.isValid()) {
                try {
                    reg.handle.handle(reg, event.set((int) data, ev));
                } catch (Throwable t) {
                    failed(reg, t);
                }
                handled++;
            }
        }
        if (context.shouldReportActiveIoTime()) {
            context.reportActiveIoTime(handled == 0 ? 0 : System.nanoTime() - start);
        }
        return handled;
    }

    /**
     * A handle threw out of {@code handle}: nothing may escape the loop, which serves every other
     * channel too. The handle is closed (a channel closes, so its port stops being steered) and, should
     * even that fail, its descriptors leave the epoll set so it is not called again.
     */
    private static void failed(Registration reg, Throwable t) {
        logger.warn("{} failed on the event loop; closing it", reg.handle, t);
        try {
            reg.handle.close();
        } catch (Throwable e) {
            logger.warn("failed to close {}", reg.handle, e);
        } finally {
            reg.cancel();
        }
    }

    private static int timeoutMillis(IoHandlerContext context) {
        long deadline = context.deadlineNanos();
        if (deadline == -1) {
            return -1;
        }
        long delay = context.delayNanos(System.nanoTime());
        if (delay <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, (delay + 999_999) / 1_000_000);
    }

    @Override
    public void wakeup() {
        if (!executor.isExecutorThread(Thread.currentThread()) && wakeupPending.getAndSet(1) == 0) {
            // never write a closed (and maybe reused) descriptor: destroy() waits for writers in flight
            if ((wakeupWriters.incrementAndGet() & GATE_CLOSED) == 0) {
                Syscalls.writeRaw(eventFd, one, 8);
            }
            wakeupWriters.decrementAndGet();
        }
    }

    @Override
    public IoRegistration register(IoHandle handle) {
        XdpIoHandle h = (XdpIoHandle) handle;
        Registration reg = new Registration(h);
        registrations.add(reg);
        h.registered();
        return reg;
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return XdpIoHandle.class.isAssignableFrom(handleType);
    }

    @Override
    public void prepareToDestroy() {
        for (Registration reg : registrations.toArray(new Registration[0])) {
            try {
                reg.handle.close();
            } catch (Exception e) {
                logger.debug("failed to close {}", reg.handle, e);
            }
        }
    }

    @Override
    public void destroy() {
        int writers = wakeupWriters.getAndAdd(GATE_CLOSED);
        while ((writers & ~GATE_CLOSED) != 0) {
            Thread.onSpinWait();
            writers = wakeupWriters.get() & ~GATE_CLOSED;
        }
        Syscalls.close(eventFd);
        Syscalls.close(epollFd);
        arena.close();
    }

    /** One handle's registration: the descriptors it watches. */
    private final class Registration implements IoRegistration {
        final XdpIoHandle handle;
        final IntObjectMap<Integer> watched = new IntObjectHashMap<>(4);
        boolean valid = true;

        Registration(XdpIoHandle handle) {
            this.handle = handle;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T attachment() {
            return (T) XdpIoHandler.this;
        }

        /**
         * Applies {@link XdpIoOps}: watch a descriptor for its events, or stop watching it (events 0).
         * Must be called on the event loop. Returns 0, or -1 when the registration is no longer valid.
         */
        @Override
        public long submit(IoOps ops) {
            if (!valid) {
                return -1;
            }
            XdpIoOps op = (XdpIoOps) ops;
            Integer old = watched.get(op.fd());
            int op0;
            if (op.events() == 0) {
                if (old == null) {
                    return 0;
                }
                watched.remove(op.fd());
                byFd.remove(op.fd());
                op0 = Linux.EPOLL_CTL_DEL;
            } else if (old == null) {
                watched.put(op.fd(), Integer.valueOf(op.events()));
                byFd.put(op.fd(), this);
                op0 = Linux.EPOLL_CTL_ADD;
            } else if (old.intValue() != op.events()) {
                watched.put(op.fd(), Integer.valueOf(op.events()));
                op0 = Linux.EPOLL_CTL_MOD;
            } else {
                return 0;
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment e = a.allocate(EpollEvent.LAYOUT);
                EpollEvent.set(e, op.events(), op.fd());
                Syscalls.epollCtl(epollFd, op0, op.fd(), e);
            } catch (SyscallException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            return 0;
        }

        @Override
        public boolean isValid() {
            return valid;
        }

        @Override
        public boolean cancel() {
            if (!valid) {
                return false;
            }
            valid = false;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment e = a.allocate(EpollEvent.LAYOUT);
                for (int fd : watched.keySet()) {
                    byFd.remove(fd);
                    try {
                        Syscalls.epollCtl(epollFd, Linux.EPOLL_CTL_DEL, fd, e);
                    } catch (SyscallException ignored) {
                        // the descriptor was closed already: epoll dropped it by itself
                    }
                }
            }
            watched.clear();
            registrations.remove(this);
            handle.unregistered();
            return true;
        }
    }
}
