package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Syscalls;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF map owned through its file descriptor: created with {@code BPF_MAP_CREATE}, read and
 * written with the {@code BPF_MAP_*_ELEM} commands, released by {@link #close()} (the kernel frees
 * it once no program holds it either). Errors are {@link BpfException}s naming the map.
 *
 * <p>Keys and values are raw memory of {@link #keySize()} and {@link #valueSize()} bytes; the
 * subclasses ({@link XskMap}, {@link PortMap}, {@link CounterMap}) offer typed access. Element
 * operations are safe from any thread; {@code close()} must not race with them.
 */
public class BpfMap extends BpfFd {
    private final String name;
    private final int type;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;

    /** Wraps an already created map; takes ownership of {@code fd}. */
    protected BpfMap(int fd, String name, int type, int keySize, int valueSize, int maxEntries) {
        super(fd);
        this.name = name;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
    }

    /**
     * Creates a map with {@code BPF_MAP_CREATE}.
     *
     * @param type  a {@code BpfCommand.MAP_TYPE_*} constant
     * @param name  the map's name as bpftool shows it; cut to 15 characters of {@code [A-Za-z0-9_.]}
     * @param flags {@code map_flags}, usually 0
     */
    public static BpfMap create(int type, String name, int keySize, int valueSize, int maxEntries, int flags)
            throws BpfException {
        return new BpfMap(createFd(type, name, keySize, valueSize, maxEntries, flags),
                BpfAttr.objName(name), type, keySize, valueSize, maxEntries);
    }

    /** Issues {@code BPF_MAP_CREATE} and returns the new map's fd. */
    protected static int createFd(int type, String name, int keySize, int valueSize, int maxEntries, int flags)
            throws BpfException {
        if (keySize <= 0 || valueSize <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("map " + name + ": key, value size and max entries must be positive");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = BpfAttr.allocate(arena);
            attr.set(JAVA_INT, BpfAttr.MAP_TYPE, type);
            attr.set(JAVA_INT, BpfAttr.KEY_SIZE, keySize);
            attr.set(JAVA_INT, BpfAttr.VALUE_SIZE, valueSize);
            attr.set(JAVA_INT, BpfAttr.MAX_ENTRIES, maxEntries);
            attr.set(JAVA_INT, BpfAttr.MAP_FLAGS, flags);
            BpfAttr.putName(attr, BpfAttr.MAP_NAME, name);
            return (int) BpfAttr.call(BpfCommand.MAP_CREATE, attr, BpfAttr.objName(name), errno -> switch (errno) {
                case Errno.EINVAL -> "the kernel refused the map type " + type + ", key size " + keySize
                        + ", value size " + valueSize + " or max entries " + maxEntries;
                default -> null;
            });
        }
    }

    /** The map's file descriptor, for relocation into programs ({@code BPF_PSEUDO_MAP_FD}). */
    @Override
    public int fd() {
        return super.fd();
    }

    /** The (sanitised) name the map was created with. */
    public String name() {
        return name;
    }

    /** The {@code BPF_MAP_TYPE_*} of this map. */
    public int type() {
        return type;
    }

    public int keySize() {
        return keySize;
    }

    public int valueSize() {
        return valueSize;
    }

    public int maxEntries() {
        return maxEntries;
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM}.
     *
     * @param flags {@link BpfCommand#BPF_ANY}, {@link BpfCommand#BPF_NOEXIST} or {@link BpfCommand#BPF_EXIST}
     */
    public void update(MemorySegment key, MemorySegment value, long flags) throws BpfException {
        update(key, value, flags, null);
    }

    /** {@code BPF_MAP_UPDATE_ELEM} with a subclass-specific hint for failures. */
    protected void update(MemorySegment key, MemorySegment value, long flags, BpfAttr.HintFn hint)
            throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elemAttr(arena, key, value);
            attr.set(JAVA_LONG, BpfAttr.ELEM_FLAGS, flags);
            BpfAttr.call(BpfCommand.MAP_UPDATE_ELEM, attr, name, errno -> {
                String h = hint == null ? null : hint.hint(errno);
                if (h != null) {
                    return h;
                }
                return switch (errno) {
                    case Errno.E2BIG -> "map full or key beyond max entries " + maxEntries;
                    case Errno.EEXIST -> "key exists and BPF_NOEXIST was given";
                    case Errno.ENOENT -> "key absent and BPF_EXIST was given";
                    default -> null;
                };
            });
        }
    }

    /**
     * {@code BPF_MAP_LOOKUP_ELEM} into {@code value}.
     *
     * @return {@code false} if the key is absent
     */
    public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elemAttr(arena, key, value);
            return elemCall(BpfCommand.MAP_LOOKUP_ELEM, attr);
        }
    }

    /**
     * {@code BPF_MAP_DELETE_ELEM}.
     *
     * @return {@code false} if the key was absent
     */
    public boolean delete(MemorySegment key) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elemAttr(arena, key, null);
            return elemCall(BpfCommand.MAP_DELETE_ELEM, attr);
        }
    }

    private boolean elemCall(int cmd, MemorySegment attr) throws BpfException {
        long r = Syscalls.bpfRaw(cmd, attr, BpfAttr.SIZE);
        if (r == -Errno.ENOENT) {
            return false;
        }
        if (r < 0) {
            throw new BpfException(BpfAttr.callName(cmd, name), (int) -r,
                    r == -Errno.EOPNOTSUPP ? "this map type does not support the operation from user space" : null,
                    null);
        }
        return true;
    }

    private MemorySegment elemAttr(Arena arena, MemorySegment key, MemorySegment value) {
        ensureOpen();
        if (key.byteSize() < keySize) {
            throw new IllegalArgumentException("map " + name + ": key of " + key.byteSize() + " bytes, needs " + keySize);
        }
        if (value != null && value.byteSize() < valueSize) {
            throw new IllegalArgumentException("map " + name + ": value of " + value.byteSize() + " bytes, needs "
                    + valueSize);
        }
        MemorySegment attr = BpfAttr.allocate(arena);
        attr.set(JAVA_INT, BpfAttr.ELEM_MAP_FD, rawFd());
        attr.set(JAVA_LONG, BpfAttr.ELEM_KEY, key.address());
        if (value != null) {
            attr.set(JAVA_LONG, BpfAttr.ELEM_VALUE, value.address());
        }
        return attr;
    }

    @Override
    String describe() {
        return "BPF map " + name;
    }

    /** Closes the fd; idempotent. Programs that use the map keep it alive. */
    @Override
    public void close() {
        super.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + ", fd=" + rawFd() + closedSuffix() + "]";
    }
}
