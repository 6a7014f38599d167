package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The steering table of {@link UdpSteeringProgram}: a {@code BPF_MAP_TYPE_HASH} from UDP
 * destination port to the channel that takes it.
 *
 * <ul>
 *   <li>Key: {@code u32} holding the port in <b>host byte order</b> (0..65535, upper half zero); the
 *       program converts the wire's big-endian port with {@code BPF_END} before the lookup.</li>
 *   <li>Value: {@code struct { u32 slot; u32 max_frame_len; }} — the channel's slot (its range of
 *       indexes in the {@link XskMap}) and the longest frame its UMEM takes; longer frames go to the
 *       kernel ({@code XDP_PASS}). {@code max_frame_len = 0} means no limit (multi-buffer mode).</li>
 * </ul>
 */
public final class PortMap extends BpfMap {
    /** Key bytes: one u32. */
    public static final int KEY_SIZE = 4;
    /** Value bytes: slot and max frame length. */
    public static final int VALUE_SIZE = 8;

    /** One entry: the slot and frame limit a port maps to. */
    public record Entry(int slot, int maxFrameLen) {
    }

    private PortMap(int fd, String name, int maxEntries) {
        super(fd, name, BpfCommand.MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, maxEntries);
    }

    /** Creates a port map holding at most {@code maxPorts} ports. */
    public static PortMap create(String name, int maxPorts) throws BpfException {
        int fd = createFd(BpfCommand.MAP_TYPE_HASH, name, KEY_SIZE, VALUE_SIZE, maxPorts, 0);
        return new PortMap(fd, BpfAttr.objName(name), maxPorts);
    }

    /**
     * Steers UDP datagrams to {@code port} to {@code slot}, inserting or replacing.
     *
     * @param maxFrameLen the longest frame (first buffer) the channel takes; 0 for no limit
     */
    public void put(int port, int slot, int maxFrameLen) throws BpfException {
        checkPort(port);
        if (slot < 0) {
            throw new IllegalArgumentException("negative slot " + slot);
        }
        if (maxFrameLen < 0) {
            throw new IllegalArgumentException("negative maxFrameLen " + maxFrameLen);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocateFrom(JAVA_INT, port);
            MemorySegment value = arena.allocate(VALUE_SIZE, 4);
            value.set(JAVA_INT, 0, slot);
            value.set(JAVA_INT, 4, maxFrameLen);
            update(key, value, BpfCommand.BPF_ANY, errno -> errno == org.nettyxdp.sys.Errno.E2BIG
                    ? "port map full: it holds at most " + maxEntries() + " ports" : null);
        }
    }

    /** Stops steering {@code port}; returns {@code false} if it was not steered. */
    public boolean remove(int port) throws BpfException {
        checkPort(port);
        try (Arena arena = Arena.ofConfined()) {
            return delete(arena.allocateFrom(JAVA_INT, port));
        }
    }

    /** The entry for {@code port}, or {@code null}. */
    public Entry get(int port) throws BpfException {
        checkPort(port);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(VALUE_SIZE, 4);
            if (!lookup(arena.allocateFrom(JAVA_INT, port), value)) {
                return null;
            }
            return new Entry(value.get(JAVA_INT, 0), value.get(JAVA_INT, 4));
        }
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("UDP port out of range: " + port);
        }
    }
}
