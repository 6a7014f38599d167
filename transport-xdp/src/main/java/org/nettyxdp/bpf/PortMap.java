package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The steering table of {@link UdpSteeringProgram}: a {@code BPF_MAP_TYPE_HASH} from UDP
 * destination port to the channel that takes it.
 *
 * <ul>
 *   <li>Key: {@code u32} holding the port in <b>host byte order</b> (0..65535, upper half zero); the
 *       program converts the wire's big-endian port with {@code BPF_END} before the lookup.</li>
 *   <li>Value: {@code struct { u32 slot; u32 max_frame_len; u32 family; u8 addr[16]; }} (28 bytes) —
 *       the channel's slot (its range of indexes in the {@link XskMap}), the longest frame its UMEM
 *       takes (longer frames go to the kernel, {@code XDP_PASS}; 0 means no limit, multi-buffer mode),
 *       and the address the channel is bound to: {@code family} 0 = any address of either family,
 *       4 = the IPv4 address in {@code addr[0..3]}, 16 = the IPv6 address in {@code addr[0..15]}, in
 *       network byte order. Frames to another destination go to the kernel.</li>
 * </ul>
 */
public final class PortMap extends BpfMap {
    /** Key bytes: one u32. */
    public static final int KEY_SIZE = 4;
    /** Value bytes: slot, max frame length, family and a 16-byte address. */
    public static final int VALUE_SIZE = 28;
    /** Value offset of {@code family}. */
    static final int OFF_FAMILY = 8;
    /** Value offset of {@code addr}. */
    static final int OFF_ADDR = 12;
    /** {@code family}: any destination address, IPv4 or IPv6. */
    static final int FAMILY_ANY = 0;
    /** {@code family}: an IPv4 address. */
    static final int FAMILY_IPV4 = 4;
    /** {@code family}: an IPv6 address. */
    static final int FAMILY_IPV6 = 16;

    /**
     * One entry: the slot and frame limit a port maps to, and the destination address it is limited to.
     *
     * @param address the bound address ({@link Inet4Address} or {@link Inet6Address}, without scope), or
     *                {@code null} for any address
     */
    public record Entry(int slot, int maxFrameLen, InetAddress address) {
        /** An entry for any destination address. */
        public Entry(int slot, int maxFrameLen) {
            this(slot, maxFrameLen, null);
        }
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
     * Steers UDP datagrams to {@code port}, whatever their destination address, to {@code slot},
     * inserting or replacing.
     *
     * @param maxFrameLen the longest frame (first buffer) the channel takes; 0 for no limit
     */
    public void put(int port, int slot, int maxFrameLen) throws BpfException {
        put(port, slot, maxFrameLen, null);
    }

    /**
     * Steers UDP datagrams to {@code bound:port} to {@code slot}, inserting or replacing. Datagrams
     * to the port but another destination address (or the other IP family) go to the kernel.
     *
     * @param maxFrameLen the longest frame (first buffer) the channel takes; 0 for no limit
     * @param bound       the channel's bound address; {@code null} or a wildcard address
     *                    ({@code 0.0.0.0}, {@code ::}) for any address of either family
     */
    public void put(int port, int slot, int maxFrameLen, InetAddress bound) throws BpfException {
        checkPort(port);
        if (slot < 0) {
            throw new IllegalArgumentException("negative slot " + slot);
        }
        if (maxFrameLen < 0) {
            throw new IllegalArgumentException("negative maxFrameLen " + maxFrameLen);
        }
        byte[] addr = bound == null || bound.isAnyLocalAddress() ? new byte[0] : bound.getAddress();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocateFrom(JAVA_INT, port);
            MemorySegment value = arena.allocate(VALUE_SIZE, 4); // zeroed
            value.set(JAVA_INT, 0, slot);
            value.set(JAVA_INT, 4, maxFrameLen);
            value.set(JAVA_INT, OFF_FAMILY, addr.length);
            MemorySegment.copy(addr, 0, value, JAVA_BYTE, OFF_ADDR, addr.length);
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
            int family = value.get(JAVA_INT, OFF_FAMILY);
            InetAddress address = null;
            if (family == FAMILY_IPV4 || family == FAMILY_IPV6) {
                byte[] bytes = value.asSlice(OFF_ADDR, family).toArray(JAVA_BYTE);
                try {
                    // Inet6Address explicitly: getByAddress would turn an IPv4-mapped address into IPv4
                    address = family == FAMILY_IPV4 ? InetAddress.getByAddress(bytes)
                            : Inet6Address.getByAddress(null, bytes, -1);
                } catch (UnknownHostException e) {
                    throw new AssertionError(e); // 4 or 16 bytes are always valid
                }
            }
            return new Entry(value.get(JAVA_INT, 0), value.get(JAVA_INT, 4), address);
        }
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("UDP port out of range: " + port);
        }
    }
}
