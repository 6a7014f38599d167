package org.nettyxdp.socket;

import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The packet buffer area an AF_XDP socket shares with the kernel: {@code frameCount} frames of
 * {@code frameSize} bytes in one page-aligned anonymous mapping, and the stack of frames that are
 * currently free (in no ring and not held by the application).
 *
 * <p>Not thread-safe, except {@link #close()}: a UMEM and every socket using it belong to one thread.
 * (The channels' fast path keeps its frames in a {@code UmemFramePool} instead of the free stack here.)
 */
public final class Umem implements AutoCloseable {
    private static final long REG_ADDR = XdpStructs.offset(XdpStructs.UMEM_REG, "addr");
    private static final long REG_LEN = XdpStructs.offset(XdpStructs.UMEM_REG, "len");
    private static final long REG_CHUNK_SIZE = XdpStructs.offset(XdpStructs.UMEM_REG, "chunk_size");
    private static final long REG_HEADROOM = XdpStructs.offset(XdpStructs.UMEM_REG, "headroom");
    private static final long REG_FLAGS = XdpStructs.offset(XdpStructs.UMEM_REG, "flags");
    private static final long REG_TX_METADATA_LEN = XdpStructs.offset(XdpStructs.UMEM_REG, "tx_metadata_len");

    private final UmemConfig config;
    private final Arena arena;
    private final MemorySegment region;
    private final long[] free;
    private final long frameMask;
    private int freeCount;
    private int registeredFd = -1;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private Umem(UmemConfig config, Arena arena, MemorySegment region) {
        this.config = config;
        this.arena = arena;
        this.region = region;
        this.free = new long[config.frameCount()];
        this.frameMask = ~((long) config.frameSize() - 1);
        for (int i = config.frameCount() - 1; i >= 0; i--) {
            free[freeCount++] = (long) i * config.frameSize();
        }
    }

    /**
     * Maps a new UMEM with the given geometry; every frame starts free. The mapping belongs to a shared
     * arena that {@link #close()} closes (which unmaps it): an access through {@link #region()} or any
     * slice or NIO view of it after that throws {@link IllegalStateException} instead of faulting.
     */
    public static Umem allocate(UmemConfig config) throws SyscallException {
        MemorySegment mapped = Syscalls.mmap(config.size(), Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | Linux.MAP_POPULATE, -1, 0, "UMEM");
        Arena arena = Arena.ofShared();
        return new Umem(config, arena, mapped.reinterpret(arena, Umem::unmap));
    }

    private static void unmap(MemorySegment region) {
        try {
            Syscalls.munmap(region);
        } catch (SyscallException ignored) {
            // unmapping a mapping we made cannot fail; nothing is left to do if it does
        }
    }

    /** Registers the area with socket {@code fd} ({@code XDP_UMEM_REG}); done once, by the first socket. */
    void register(int fd) throws SyscallException {
        if (registeredFd >= 0) {
            throw new IllegalStateException("UMEM already registered with fd " + registeredFd);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reg = arena.allocate(XdpStructs.UMEM_REG);
            reg.set(JAVA_LONG, REG_ADDR, region.address());
            reg.set(JAVA_LONG, REG_LEN, region.byteSize());
            reg.set(JAVA_INT, REG_CHUNK_SIZE, config.frameSize());
            reg.set(JAVA_INT, REG_HEADROOM, config.headroom());
            int flags = config.txMetadataLen() > 0 ? XdpConstants.XDP_UMEM_TX_METADATA_LEN : 0;
            reg.set(JAVA_INT, REG_FLAGS, flags);
            reg.set(JAVA_INT, REG_TX_METADATA_LEN, config.txMetadataLen());
            Syscalls.setsockopt(fd, XdpConstants.SOL_XDP, XdpConstants.XDP_UMEM_REG, reg, (int) reg.byteSize(), "XDP_UMEM_REG");
        }
        registeredFd = fd;
    }

    /**
     * Forgets the registration with {@code fd}, whose socket failed to open and is closed: the kernel's
     * registration went with it, so the next socket may register the area again.
     */
    void unregister(int fd) {
        if (registeredFd == fd) {
            registeredFd = -1;
        }
    }

    /** The UMEM geometry. */
    public UmemConfig config() {
        return config;
    }

    /** The whole area; frame addresses are offsets into it. */
    public MemorySegment region() {
        return region;
    }

    /** Start offset of the frame that holds UMEM address {@code addr}. */
    public long frameOf(long addr) {
        return addr & frameMask;
    }

    /** Takes a free frame and returns its start offset, or -1 when none is free. */
    public long allocateFrame() {
        return freeCount == 0 ? -1 : free[--freeCount];
    }

    /** Returns the frame holding {@code addr} to the free stack. */
    public void freeFrame(long addr) {
        free[freeCount++] = addr & frameMask;
    }

    /** Frames neither in a ring nor held by the application. */
    public int freeFrames() {
        return freeCount;
    }

    /** Total number of frames. */
    public int frameCount() {
        return config.frameCount();
    }

    /**
     * Unmaps the area; every socket using it must be closed first. Any thread; idempotent. Threads
     * still accessing the region get an {@link IllegalStateException}.
     */
    @Override
    public void close() throws SyscallException {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }
}
