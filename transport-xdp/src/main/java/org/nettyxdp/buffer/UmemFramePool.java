package org.nettyxdp.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.concurrent.MpscIntQueue;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.ReentrantLock;

import static org.nettyxdp.buffer.FrameStates.APPLICATION;
import static org.nettyxdp.buffer.FrameStates.FREE;
import static org.nettyxdp.buffer.FrameStates.KERNEL;
import static org.nettyxdp.buffer.FrameStates.RECEIVED;
import static org.nettyxdp.buffer.FrameStates.SENDING;
import static org.nettyxdp.buffer.FrameStates.SENDING_IN_PLACE;
import static org.nettyxdp.buffer.FrameStates.compareAndSet;
import static org.nettyxdp.buffer.FrameStates.get;
import static org.nettyxdp.buffer.FrameStates.move;
import static org.nettyxdp.buffer.FrameStates.name;
import static org.nettyxdp.buffer.FrameStates.set;

/**
 * The frames of one UMEM (a region of equal, power-of-two sized frames) and the {@link UmemByteBuf}
 * objects the application sees them through.
 *
 * <p>Every frame is in exactly one place, recorded per frame and checked on every move, so a frame
 * can never be handed out twice:
 * <pre>
 * free ─takeForReceive→ kernel (fill/RX rings) ─wrap→ application ─release→ free
 *                              └─drop→ free
 * kernel ─takeReceived→ received (its RX reader validates it) ─wrapReceived→ application
 *                                                             └─dropReceived→ free
 * free ─takeForSend→ sending (TX/completion rings) ─sent→ free
 * application ─holdForSend→ sending in place ─sent→ application (its reference dropped)
 * </pre>
 * A method asked to move a frame that is not where it says throws {@link IllegalStateException} and
 * moves nothing. Frame addresses are offsets into the region, as AF_XDP descriptors carry them; the
 * caller moves them between this pool and the kernel's rings.
 *
 * <p>A buffer object is put over a frame when the frame is handed out and freed with it; the most
 * recently freed objects are reused first, so an event loop receiving and sending at full rate works
 * on a few objects that stay in its cache instead of one per frame of a deep fill ring. The first
 * thread to receive through the pool (its event loop) takes them from a cache of its own without a
 * lock.
 *
 * <p>Thread safety: every method may be called from any thread. Releasing a buffer is lock-free (a
 * multi-producer queue); the batch methods take an internal lock once per call, uncontended unless
 * several event loops share one UMEM.
 */
public final class UmemFramePool {
    /** {@link #takeReceived} of a descriptor naming no packet the kernel may deliver. */
    public static final int NOT_RECEIVED = -1;

    /** Free buffer objects the first receiving thread takes from without the lock. */
    static final int OWNER_CACHE = 64;

    private final int frameCount;
    /** Each frame's data area (after the kernel's headroom), its NIO view and a duplicate for internal use. */
    private final MemorySegment[] frameData;
    private final ByteBuffer[] frameNio;
    private final ByteBuffer[] internalNio;
    /** The buffer object over each frame while the application (or an in-place send) has it, else null. */
    private final UmemByteBuf[] bound;
    /** Under {@link #lock}: the stack of buffer objects over no frame; the last freed on top. */
    private final UmemByteBuf[] spare;
    private int spareCount;
    /** The thread {@link #cache} belongs to: the first that received through this pool. */
    private volatile Thread owner;
    /** Confined to {@link #owner}: free buffer objects, taken from {@link #spare} in batches. */
    private final UmemByteBuf[] cache = new UmemByteBuf[OWNER_CACHE];
    private int cacheCount;
    /** Where each frame is: one of the {@link FrameStates}. */
    private final byte[] state;
    private final int frameShift;
    private final int frameCapacity;
    /** Frames released by the application on any thread, not yet back on {@link #free}. */
    private final MpscIntQueue released;
    private final ReentrantLock lock = new ReentrantLock();
    /** Under {@link #lock}: the stack of free frame indexes. */
    private final int[] free;
    private int freeCount;
    /** Frames the application holds; also what {@link #close} waits for. */
    private final AtomicInteger application = new AtomicInteger();
    private final AtomicReference<Runnable> onDrained = new AtomicReference<>();
    private volatile boolean closed;
    private final MemorySegment region;
    private final int frameSize;
    private volatile int txOffloads;

    /**
     * A pool over every frame of {@code region}, which must be a whole number of frames of
     * {@code frameSize} bytes (a power of two from {@value XdpPacket#MIN_FRAME_SIZE} to
     * {@value XdpPacket#SANITY_LIMIT}); every frame starts free. Buffers report {@code alloc} as their
     * allocator (for copies). The first {@value XdpPacket#XDP_PACKET_HEADROOM} bytes of each frame
     * belong to the kernel and are never part of a buffer.
     */
    public UmemFramePool(MemorySegment region, int frameSize, ByteBufAllocator alloc) {
        if (Integer.bitCount(frameSize) != 1 || frameSize < XdpPacket.MIN_FRAME_SIZE
                || frameSize > XdpPacket.SANITY_LIMIT) {
            throw new IllegalArgumentException("frame size " + frameSize + " must be a power of two in ["
                    + XdpPacket.MIN_FRAME_SIZE + ", " + XdpPacket.SANITY_LIMIT + "]");
        }
        long count = region.byteSize() / frameSize;
        if (count == 0 || count * frameSize != region.byteSize() || count > 1 << 24) {
            throw new IllegalArgumentException("a region of " + region.byteSize() + " bytes is not a whole number "
                    + "of " + frameSize + "-byte frames");
        }
        int frames = (int) count;
        this.region = region;
        this.frameSize = frameSize;
        this.frameShift = Integer.numberOfTrailingZeros(frameSize);
        this.frameCapacity = frameSize - XdpPacket.XDP_PACKET_HEADROOM;
        this.frameCount = frames;
        this.frameData = new MemorySegment[frames];
        this.frameNio = new ByteBuffer[frames];
        this.internalNio = new ByteBuffer[frames];
        this.bound = new UmemByteBuf[frames];
        this.state = new byte[frames];
        this.free = new int[frames];
        for (int i = 0; i < frames; i++) {
            long addr = (long) i << frameShift;
            frameData[i] = region.asSlice(addr + XdpPacket.XDP_PACKET_HEADROOM, frameCapacity);
            frameNio[i] = frameData[i].asByteBuffer();
            free[frames - 1 - i] = i; // frame 0 on top
        }
        this.freeCount = frames;
        // one object per frame and one per cache entry: whoever binds a frame finds a free object
        int objects = frames + OWNER_CACHE;
        this.spare = new UmemByteBuf[objects];
        for (int i = 0; i < objects; i++) {
            spare[objects - 1 - i] = new UmemByteBuf(this, alloc, frameCapacity, i);
        }
        this.spareCount = objects;
        this.released = MpscIntQueue.create(Math.max(2, Integer.highestOneBit(frames - 1) << 1), -1);
    }

    /** The UMEM region the frames lie in: frame addresses are offsets into it. */
    public MemorySegment region() {
        return region;
    }

    /** Bytes per frame, the kernel's headroom included. */
    public int frameSize() {
        return frameSize;
    }

    /**
     * The {@code XdpPacket.TX_OFFLOAD_*} flags packet views of these frames accept: what the device
     * advertises and the UMEM has a metadata area for (0: checksums in software).
     */
    public int txOffloads() {
        return txOffloads;
    }

    /** Sets {@link #txOffloads()}; the queue's owner decides it once, at creation. */
    public void setTxOffloads(int flags) {
        txOffloads = flags;
    }

    /** Frames in the UMEM. */
    public int frameCount() {
        return frameCount;
    }

    /** Buffer objects of this pool: {@link UmemByteBuf#bufferIndex()} is below it. */
    public int bufferCount() {
        return spare.length;
    }

    /** Bytes of a frame a buffer can use: the frame size less the kernel's headroom. */
    public int frameCapacity() {
        return frameCapacity;
    }

    /** Frames the application holds right now. */
    public int applicationFrames() {
        return application.get();
    }

    /** True if {@code buf} is the buffer of a frame of this pool. */
    public boolean owns(ByteBuf buf) {
        return buf instanceof UmemByteBuf u && u.pool() == this;
    }

    // --------------------------------------------------------------------------------------- receive

    /**
     * Takes up to {@code max} free frames for the kernel to receive into and writes their addresses to
     * {@code addrs[0..n)}; returns n, 0 once the pool is closed.
     */
    public int takeForReceive(long[] addrs, int max) {
        return take(addrs, max, KERNEL, 0);
    }

    /**
     * As {@link #takeForReceive(long[], int)}, leaving at least {@code reserve} frames free (for sends
     * that need fresh frames, such as multi-buffer chains, while the kernel receives at full rate).
     */
    public int takeForReceive(long[] addrs, int max, int reserve) {
        return take(addrs, max, KERNEL, reserve);
    }

    /** Gives back {@code n} frames from {@code addrs[from..]} taken for the kernel that it never got. */
    public void cancelReceive(long[] addrs, int from, int n) {
        putBack(addrs, from, n, KERNEL);
    }

    /**
     * Hands the frame at {@code addr}, received by the kernel, to the application as a buffer over
     * {@code [head, tail)} of the frame's data area (the bytes after the kernel's headroom): index 0 is
     * {@code head}. Lock-free on the pool's first receiving thread (but for a refill of its cache of free
     * buffer objects once in 64 buffers); under the lock on any other.
     *
     * @throws IllegalStateException if the frame is not in the kernel
     * @throws IllegalArgumentException unless {@code 0 <= head <= tail <= }{@link #frameCapacity()}
     */
    public UmemByteBuf wrap(long addr, int head, int tail, int options) {
        checkWindow(head, tail);
        int index = index(addr);
        move(state, index, KERNEL, APPLICATION);
        return handOut(index, head, tail, options);
    }

    private void checkWindow(int head, int tail) {
        if (head < 0 || head > tail || tail > frameCapacity) {
            throw new IllegalArgumentException("need 0 <= head (" + head + ") <= tail (" + tail + ") <= "
                    + frameCapacity);
        }
    }

    private UmemByteBuf handOut(int index, int head, int tail, int options) {
        application.incrementAndGet();
        return bind(spareBuffer(), index, head, tail, options);
    }

    private UmemByteBuf bind(UmemByteBuf buf, int index, int head, int tail, int options) {
        buf.bind(index, (long) index << frameShift, frameData[index], frameNio[index]);
        bound[index] = buf;
        buf.reuse(head, tail, options);
        return buf;
    }

    /**
     * A buffer object over no frame: from the owner's cache (refilled under the lock once it runs
     * out), or, on any other thread, from {@link #spare} under the lock. Never null: there is one
     * object per frame and per cache entry.
     */
    private UmemByteBuf spareBuffer() {
        Thread current = Thread.currentThread();
        Thread o = owner;
        if (o == null && OWNER.compareAndSet(this, null, current)) {
            o = current;
        }
        if (o == current) {
            if (cacheCount == 0) {
                fillCache();
            }
            UmemByteBuf buf = cache[--cacheCount];
            cache[cacheCount] = null;
            return buf;
        }
        lock.lock();
        try {
            reclaimReleased();
            return popSpare();
        } finally {
            lock.unlock();
        }
    }

    /** On the owner: moves the most recently freed objects (at most a cache's worth) into its cache. */
    private void fillCache() {
        lock.lock();
        try {
            reclaimReleased();
            int n = Math.min(OWNER_CACHE, spareCount);
            int from = spareCount - n;
            // same order: the most recently freed ends on top of the cache
            System.arraycopy(spare, from, cache, 0, n);
            Arrays.fill(spare, from, spareCount, null);
            spareCount = from;
            cacheCount = n;
        } finally {
            lock.unlock();
        }
    }

    /** Lock held. */
    private UmemByteBuf popSpare() {
        UmemByteBuf buf = spare[--spareCount];
        spare[spareCount] = null;
        return buf;
    }

    /** Lock held: frame {@code index} is free again; the object that was over it (if any) is spare. */
    private void unbind(int index) {
        UmemByteBuf buf = bound[index];
        if (buf != null) {
            bound[index] = null;
            spare[spareCount++] = buf;
        }
    }

    /** The duplicate of frame {@code index}'s NIO view that its buffer's {@code internalNioBuffer} uses. */
    ByteBuffer internalNio(int index) {
        ByteBuffer b = internalNio[index];
        if (b == null) {
            internalNio[index] = b = frameNio[index].duplicate();
        }
        return b;
    }

    /**
     * Takes the frame of RX descriptor {@code (addr, len)} back from the kernel for its RX reader to
     * validate, the one checked move of a received frame: the frame must be one the kernel holds, and
     * the packet must start after the kernel's headroom of its (aligned) frame, be non-empty and end
     * within it ({@code len} is unsigned, as the kernel's {@code __u32}). Returns the frame's index, the
     * frame now received: {@link #wrapReceived} or {@link #dropReceived} moves it on. Any other
     * descriptor returns {@link #NOT_RECEIVED}, its frame given back (free) if the kernel held it, so
     * nothing is freed twice. Never throws, reads no frame memory; lock-free.
     */
    public int takeReceived(long addr, int len) {
        int verdict = RxDescriptor.check(addr, len, (long) frameCount << frameShift, frameSize);
        if (verdict == RxDescriptor.NOT_A_FRAME) {
            return NOT_RECEIVED;
        }
        int index = (int) (addr >>> frameShift);
        // compare-and-set: rings of sockets on several event loops can share this UMEM, and a descriptor
        // that names a frame another ring holds must not hand it out twice
        if (verdict != RxDescriptor.VALID) {
            if (compareAndSet(state, index, KERNEL, FREE)) {
                offerReleased(index);
            }
            return NOT_RECEIVED;
        }
        return compareAndSet(state, index, KERNEL, RECEIVED) ? index : NOT_RECEIVED;
    }

    /**
     * As {@link #wrap}, for the frame {@link #takeReceived} took: hands it to the application as a
     * buffer over {@code [head, tail)} of its data area. Locking as {@link #wrap}.
     *
     * @throws IllegalStateException if the frame is not received
     * @throws IllegalArgumentException unless {@code 0 <= head <= tail <= }{@link #frameCapacity()}
     */
    public UmemByteBuf wrapReceived(long addr, int head, int tail, int options) {
        checkWindow(head, tail);
        int index = index(addr);
        FrameStates.expectPlain(state, index, RECEIVED); // the reader's own move, on this thread
        set(state, index, APPLICATION);
        return handOut(index, head, tail, options);
    }

    /**
     * Gives back the frame {@link #takeReceived} took without handing it out (a dropped frame).
     *
     * @throws IllegalStateException if the frame is not received
     */
    public void dropReceived(long addr) {
        int index = index(addr);
        FrameStates.expectPlain(state, index, RECEIVED);
        set(state, index, FREE);
        offerReleased(index);
    }

    /** Takes back the frame at {@code addr} from the kernel without handing it out (a dropped frame). */
    public void drop(long addr) {
        int index = index(addr);
        move(state, index, KERNEL, FREE);
        offerReleased(index);
    }

    /** Called by {@link UmemByteBuf#deallocate()} on whatever thread released the last reference. */
    void release(UmemByteBuf buf) {
        int index = buf.frameIndex();
        if (get(state, index) != APPLICATION) {
            // the reference count reached 0 for a frame the application does not hold: never free it twice
            throw new IllegalReferenceCountException("frame " + index + " released while "
                    + name(state[index]));
        }
        set(state, index, FREE);
        offerReleased(index);
        if (application.decrementAndGet() == 0 && closed) {
            runDrained();
        }
    }

    // ------------------------------------------------------------------------------------------ send

    /**
     * Takes up to {@code max} free frames to send copies in and writes their addresses to
     * {@code addrs[0..n)}; returns n, 0 once the pool is closed.
     */
    public int takeForSend(long[] addrs, int max) {
        return take(addrs, max, SENDING, 0);
    }

    /** Gives back {@code n} frames from {@code addrs[0..n)} taken for sending that were not sent. */
    public void cancelSend(long[] addrs, int n) {
        putBack(addrs, 0, n, SENDING);
    }

    /**
     * Marks {@code buf}, held by the application, as being sent in place: the pool keeps a reference
     * to it until {@link #sent} reports the frame (or {@link #cancelHold}). Returns false, doing
     * nothing, if {@code buf} is not this pool's or its frame is already being sent (a buffer written
     * twice: the caller sends a copy).
     */
    public boolean holdForSend(ByteBuf buf) {
        if (!owns(buf)) {
            return false;
        }
        UmemByteBuf u = (UmemByteBuf) buf;
        u.retain(); // also checks that the caller still holds it
        if (!compareAndSet(state, u.frameIndex(), APPLICATION, SENDING_IN_PLACE)) {
            u.release();
            return false;
        }
        application.decrementAndGet();
        return true;
    }

    /** Undoes {@link #holdForSend} for a buffer that was not queued after all. */
    public void cancelHold(ByteBuf buf) {
        UmemByteBuf u = (UmemByteBuf) buf;
        if (!owns(u)) {
            throw new IllegalArgumentException(buf + " is not a buffer of this pool");
        }
        move(state, u.frameIndex(), SENDING_IN_PLACE, APPLICATION);
        application.incrementAndGet();
        u.release();
    }

    /**
     * The kernel completed sending the frames at {@code addrs[0..n)}: copies go back to the free
     * frames, in-place frames drop the pool's reference. Returns how many addresses named no frame
     * being sent (ignored: a frame is never freed twice); 0 normally.
     */
    public int sent(long[] addrs, int n) {
        int unknown = 0;
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                long addr = addrs[i];
                int index = (int) (addr >>> frameShift);
                if (addr < 0 || index >= frameCount) {
                    unknown++;
                    continue;
                }
                byte s = get(state, index);
                if (s == SENDING) {
                    set(state, index, FREE);
                    free[freeCount++] = index;
                } else if (s == SENDING_IN_PLACE) {
                    completeInPlace(bound[index]);
                } else {
                    unknown++;
                }
            }
        } finally {
            lock.unlock();
        }
        return unknown;
    }

    /**
     * Lock held: drops the pool's reference to {@code buf}, sent in place. When it is the last one (the
     * outbound buffer released the datagram before the send completed, the usual case) the frame goes
     * straight back to {@link #free}, with no trip through the application count and the release
     * queue; else the frame returns to the application, which still holds it.
     */
    private void completeInPlace(UmemByteBuf buf) {
        int index = buf.frameIndex();
        if (buf.refCnt() == 1) {
            buf.dropLastReference();
            set(state, index, FREE);
            unbind(index);
            free[freeCount++] = index;
        } else {
            set(state, index, APPLICATION);
            application.incrementAndGet();
            buf.release(); // not the last reference: release() runs when the application drops its own
        }
    }

    // ----------------------------------------------------------------------------------- application

    /**
     * Takes a free frame for the application to write a datagram into, as a buffer whose index 0 lies
     * {@code headroom} bytes into the frame's data area (room for headers to be prepended in place),
     * empty. Returns null when fewer than {@code reserve} frames would stay free (so receiving never
     * starves) or once the pool is closed.
     */
    public UmemByteBuf allocate(int headroom, int reserve) {
        if (headroom < 0 || headroom > frameCapacity) {
            throw new IllegalArgumentException("headroom " + headroom + " outside [0, " + frameCapacity + "]");
        }
        int index;
        lock.lock();
        try {
            if (closed) {
                return null;
            }
            reclaimReleased();
            if (freeCount <= reserve) {
                return null;
            }
            index = free[--freeCount];
            move(state, index, FREE, APPLICATION);
            application.incrementAndGet(); // under the lock, so close() sees it
            return bind(popSpare(), index, headroom, headroom, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Where the frames are now; exact when no thread is moving frames. */
    public FrameAccounting accounting() {
        lock.lock();
        try {
            return FrameStates.count(state);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the pool once nothing but the application uses its frames any more (every socket on the
     * UMEM is closed): no frame is handed out after this, frames still being sent in place drop the
     * pool's reference, and {@code whenDrained} (typically: unmap the UMEM) runs once the application
     * holds no frame: at once if it holds none, otherwise on the thread releasing the last one. A
     * buffer the application still holds keeps the memory it reads mapped. Idempotent: only the first
     * call's action runs.
     */
    public void close(Runnable whenDrained) {
        if (!onDrained.compareAndSet(null, whenDrained) || closed) {
            return;
        }
        lock.lock();
        try {
            closed = true;
            for (int i = 0; i < state.length; i++) {
                if (get(state, i) == SENDING_IN_PLACE) {
                    completeInPlace(bound[i]);
                }
            }
        } finally {
            lock.unlock();
        }
        if (application.get() == 0) {
            runDrained();
        }
    }

    /** True once {@link #close} was called. */
    public boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------------------------- internals

    private int index(long addr) {
        int index = (int) (addr >>> frameShift);
        if (addr < 0 || index >= frameCount) {
            throw new IllegalArgumentException("address " + addr + " lies outside the UMEM's "
                    + frameCount + " frames");
        }
        return index;
    }

    private int take(long[] addrs, int max, byte to, int reserve) {
        int n = Math.min(max, addrs.length);
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            reclaimReleased();
            n = Math.max(0, Math.min(n, freeCount - reserve));
            for (int i = 0; i < n; i++) {
                // free by construction: every frame reaches the stack through a checked move to FREE
                int index = free[--freeCount];
                set(state, index, to);
                addrs[i] = (long) index << frameShift;
            }
        } finally {
            lock.unlock();
        }
        return n;
    }

    private void putBack(long[] addrs, int from, int n, byte expected) {
        lock.lock();
        try {
            for (int i = from; i < from + n; i++) {
                int index = index(addrs[i]);
                move(state, index, expected, FREE);
                free[freeCount++] = index;
            }
        } finally {
            lock.unlock();
        }
    }

    private void offerReleased(int index) {
        if (!released.offer(index)) {
            // cannot happen: the queue holds every frame; keep the frame rather than lose it
            lock.lock();
            try {
                unbind(index);
                free[freeCount++] = index;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Lock held: moves released frames onto the free stack. Every batch does it, so the queue never
     * fills up (each frame is in it at most once, and it holds them all).
     */
    private void reclaimReleased() {
        int index;
        while ((index = released.poll()) != -1) {
            unbind(index);
            free[freeCount++] = index;
        }
    }

    private void runDrained() {
        Runnable action = onDrained.getAndSet(DRAINED);
        if (action != null && action != DRAINED) {
            action.run();
        }
    }

    private static final Runnable DRAINED = () -> { };
    private static final AtomicReferenceFieldUpdater<UmemFramePool, Thread> OWNER =
            AtomicReferenceFieldUpdater.newUpdater(UmemFramePool.class, Thread.class, "owner");
}
