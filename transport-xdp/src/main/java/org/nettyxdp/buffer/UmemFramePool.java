package org.nettyxdp.buffer;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.MpscIntQueue;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.CompletionRing;
import org.nettyxdp.socket.FillRing;
import org.nettyxdp.socket.Umem;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Owns the frames of one {@link Umem} and the {@link UmemByteBuf} object of each frame.
 *
 * <p>Frames move: free → fill ring (kernel) → RX ring → application ({@link #wrap}) → released →
 * free; or free → TX ring → completion ring → free. Releasing a buffer is lock-free from any thread
 * (a multi-producer queue). Moving frames into or out of the kernel's shared rings (fill, completion)
 * and taking free frames happens under {@link #lock()}, taken once per batch; it is uncontended unless
 * several channels on different event loops share one interface queue.
 */
public final class UmemFramePool {
    private final Umem umem;
    private final UmemByteBuf[] buffers;
    private final boolean[] zeroCopyTx;
    /** Per frame: a copy being sent, from {@link #allocateTxFrame()} until its completion. */
    private final boolean[] copyTx;
    /** Per frame: given to the kernel on the fill ring and not yet back on an RX ring. */
    private final boolean[] withKernel;
    private final int frameShift;
    private final MpscIntQueue released;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger application = new AtomicInteger();
    private final XdpPacket view;
    private final java.util.concurrent.atomic.AtomicReference<Runnable> onDrained =
            new java.util.concurrent.atomic.AtomicReference<>();
    private int kernelRx;
    private int tx;
    private long invalidCompletions;

    /** A pool over every frame of {@code umem}; buffers report {@code alloc} as their allocator. */
    @SuppressWarnings("exports") // the fast path's side of the pool: applications use UmemByteBuf only
    public UmemFramePool(Umem umem, ByteBufAllocator alloc) {
        this.umem = umem;
        int count = umem.frameCount();
        int frameSize = umem.config().frameSize();
        this.frameShift = Integer.numberOfTrailingZeros(frameSize);
        this.buffers = new UmemByteBuf[count];
        this.zeroCopyTx = new boolean[count];
        this.copyTx = new boolean[count];
        this.withKernel = new boolean[count];
        for (int i = 0; i < count; i++) {
            long addr = (long) i << frameShift;
            var data = umem.region().asSlice(addr + XdpPacket.XDP_PACKET_HEADROOM,
                    frameSize - XdpPacket.XDP_PACKET_HEADROOM).asByteBuffer();
            buffers[i] = new UmemByteBuf(this, alloc, data, i, addr);
        }
        this.released = MpscIntQueue.create(Math.max(2, Integer.highestOneBit(count - 1) << 1), -1);
        this.view = new XdpPacket(umem.region(), frameSize);
    }

    /** The UMEM these frames belong to. */
    @SuppressWarnings("exports") // the fast path's side of the pool: applications use UmemByteBuf only
    public Umem umem() {
        return umem;
    }

    /** The lock guarding the free stack and the shared fill and completion rings. */
    public ReentrantLock lock() {
        return lock;
    }

    /** Frames the application holds right now. */
    public int applicationFrames() {
        return application.get();
    }

    /** Frames in the UMEM. */
    public int frameCount() {
        return buffers.length;
    }

    /** Hands the frame at {@code addr} to the application as a buffer holding {@code [head, tail)}. */
    public UmemByteBuf wrap(long addr, int head, int tail, int options) {
        UmemByteBuf buf = buffers[(int) (addr >>> frameShift)];
        application.incrementAndGet();
        buf.reuse(head, tail, options);
        return buf;
    }

    /** Called by {@link UmemByteBuf#deallocate()} on whatever thread released it. */
    void release(UmemByteBuf buf) {
        if (application.decrementAndGet() == 0 && onDrained.get() != null) {
            runDrained();
        }
        if (!released.offer(buf.frameIndex())) {
            // cannot happen: the queue holds every frame; keep the frame rather than lose it
            lock.lock();
            try {
                umem.freeFrame(buf.frameAddress());
            } finally {
                lock.unlock();
            }
        }
    }

    /** The packet view of {@code buf}, for head/tail arithmetic. Caller's thread only, not kept. */
    XdpPacket view(UmemByteBuf buf) {
        synchronized (view) {
            return view.reset(buf.frameAddress(), buf.readerIndex(), buf.writerIndex(), buf.options());
        }
    }

    private void reclaimReleased() {
        int index;
        while ((index = released.poll()) != -1) {
            umem.freeFrame((long) index << frameShift);
        }
    }

    /** Lock held: takes a free frame for sending a copy, or -1 when none is free. */
    public long allocateTxFrame() {
        long addr = umem.allocateFrame();
        if (addr < 0) {
            reclaimReleased();
            addr = umem.allocateFrame();
        }
        if (addr >= 0) {
            tx++;
            copyTx[(int) (addr >>> frameShift)] = true;
        }
        return addr;
    }

    /**
     * Takes a free frame for the application to write a datagram into, as a buffer whose reader and
     * writer index sit at {@code headroom} (room for headers to be prepended in place). Returns null
     * when fewer than {@code reserve} frames would stay free, so receiving never starves. Any thread.
     */
    public UmemByteBuf allocate(int headroom, int reserve) {
        long addr;
        lock.lock();
        try {
            if (umem.freeFrames() <= reserve) {
                reclaimReleased();
                if (umem.freeFrames() <= reserve) {
                    return null;
                }
            }
            addr = umem.allocateFrame();
        } finally {
            lock.unlock();
        }
        return wrap(addr, headroom, headroom, 0);
    }

    /** Lock held: gives back a frame taken with {@link #allocateTxFrame()} that was not sent after all. */
    public void unallocateTxFrame(long addr) {
        tx--;
        copyTx[(int) (addr >>> frameShift)] = false;
        umem.freeFrame(addr);
    }

    /**
     * Lock held: {@code buf}, a buffer of this pool, is to be sent in place. The pool keeps the
     * reference the caller passes until the kernel completes the send.
     */
    public void sendInPlace(UmemByteBuf buf) {
        zeroCopyTx[buf.frameIndex()] = true;
        application.decrementAndGet();
        tx++;
    }

    /** Lock held: puts up to {@code max} free frames on the fill ring; returns how many. */
    @SuppressWarnings("exports") // the fast path's side of the pool: applications use UmemByteBuf only
    public int refill(FillRing fill, int max) {
        reclaimReleased();
        int n = fill.reserve(Math.min(max, umem.freeFrames()));
        for (int i = 0; i < n; i++) {
            long addr = umem.allocateFrame();
            withKernel[(int) (addr >>> frameShift)] = true;
            fill.put(i, addr);
        }
        fill.submit(n);
        kernelRx += n;
        return n;
    }

    /**
     * Takes back from the kernel the frame containing {@code addr}, which an RX descriptor names: true
     * if it is a frame of this pool given to the kernel on the fill ring and not taken back since;
     * otherwise false, and nothing changes (the descriptor is not to be trusted, nor its frame freed).
     * The receiving channel's thread, no lock: the kernel hands each frame to one RX ring.
     */
    public boolean takeFromKernel(long addr) {
        long index = addr >>> frameShift;
        if (addr < 0 || index >= withKernel.length || !withKernel[(int) index]) {
            return false;
        }
        withKernel[(int) index] = false;
        return true;
    }

    /** Lock held: {@code n} frames the fill ring gave the kernel came back on an RX ring. */
    public void receivedLocked(int n) {
        kernelRx -= n;
    }

    /** Drops a received frame: counted back as free (any thread). */
    public void drop(long addr) {
        if (!released.offer((int) (addr >>> frameShift))) {
            lock.lock();
            try {
                umem.freeFrame(addr);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Lock held: returns completed TX frames to the pool; returns how many. */
    @SuppressWarnings("exports") // the fast path's side of the pool: applications use UmemByteBuf only
    public int reapCompletions(CompletionRing completion, int max) {
        int n = completion.peek(max);
        for (int i = 0; i < n; i++) {
            long addr = completion.addr(i);
            long frame = addr >>> frameShift;
            if (addr < 0 || frame >= buffers.length || !(zeroCopyTx[(int) frame] || copyTx[(int) frame])) {
                // not a frame we are sending: a completion to ignore, never a frame to free twice
                invalidCompletions++;
                continue;
            }
            int index = (int) frame;
            tx--;
            copyTx[index] = false;
            if (zeroCopyTx[index]) {
                zeroCopyTx[index] = false;
                application.incrementAndGet(); // the release below counts it out again
                buffers[index].release();
            } else {
                umem.freeFrame(addr);
            }
        }
        completion.release(n);
        return n;
    }

    /** Lock held: completions {@link #reapCompletions} ignored as naming no frame being sent. */
    public long invalidCompletions() {
        return invalidCompletions;
    }

    /**
     * Runs {@code action} (typically: unmap the UMEM) once the application holds no frame of this
     * pool: at once if it holds none now, otherwise on the thread releasing the last one. A buffer the
     * application still holds keeps the memory it reads mapped.
     */
    public void whenDrained(Runnable action) {
        onDrained.set(action);
        if (application.get() == 0) {
            runDrained();
        }
    }

    private void runDrained() {
        Runnable action = onDrained.getAndSet(null);
        if (action != null) {
            action.run();
        }
    }

    /** Where the frames are now; exact when no thread is moving frames. */
    public FrameAccounting accounting() {
        lock.lock();
        try {
            return new FrameAccounting(buffers.length, umem.freeFrames() + released.size(), kernelRx,
                    application.get(), tx);
        } finally {
            lock.unlock();
        }
    }
}
