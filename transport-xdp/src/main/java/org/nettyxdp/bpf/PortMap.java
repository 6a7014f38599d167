package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The steering table of {@link UdpSteeringProgram}: a {@code BPF_MAP_TYPE_HASH} from UDP
 * destination port and destination address to the channel that takes them.
 *
 * <ul>
 *   <li>Key: {@code struct { u32 port; u32 family; u8 addr[16]; }} (24 bytes). {@code port} is in
 *       <b>host byte order</b> (0..65535; the program converts the wire's big-endian port with
 *       {@code BPF_END}). {@code family} 4 = the IPv4 address in {@code addr[0..3]} (rest zero),
 *       16 = the IPv6 address in {@code addr[0..15]}, both in network byte order; An all-zero
 *       {@code addr} is the port's <em>wildcard</em> entry of that family: any local destination
 *       address of the family. A dual-stack IPv6 channel puts both wildcard entries.</li>
 *   <li>Value: {@code struct { u32 slot; u32 max_frame_len; }} (8 bytes) — the channel's slot (its
 *       range of indexes in the {@link XskMap}) and the longest frame its UMEM takes (longer frames go
 *       to the kernel, {@code XDP_PASS}; 0 means no limit, multi-buffer mode).</li>
 * </ul>
 *
 * <p>The program looks up the exact key (port, the frame's family, the frame's destination) first and
 * the port's wildcard key of the frame's family second, so several channels can share a port when bound to different
 * addresses, and a wildcard entry can coexist with specific ones: the specific entry wins for its
 * address. An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) is an IPv6 key and never matches an
 * IPv4 frame.
 */
public final class PortMap extends BpfMap {
    /** Key bytes: port, family and a 16-byte address. */
    public static final int KEY_SIZE = 24;
    /** Value bytes: slot and max frame length. */
    public static final int VALUE_SIZE = 8;
    /** Key offset of {@code port}. */
    static final int KEY_PORT = 0;
    /** Key offset of {@code family}. */
    static final int KEY_FAMILY = 4;
    /** Key offset of {@code addr}. */
    static final int KEY_ADDR = 8;
    /** {@code family}: an IPv4 address. */
    static final int FAMILY_IPV4 = 4;
    /** {@code family}: an IPv6 address. */
    static final int FAMILY_IPV6 = 16;

    /** One entry: the slot and frame limit a (port, address) maps to. */
    public record Entry(int slot, int maxFrameLen) {
    }

    private PortMap(int fd, String name, int maxEntries) {
        super(fd, name, BpfCommand.MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, maxEntries);
    }

    /** Creates a port map holding at most {@code maxEntries} (port, address) entries. */
    public static PortMap create(String name, int maxEntries) throws BpfException {
        int fd = createFd(BpfCommand.MAP_TYPE_HASH, name, KEY_SIZE, VALUE_SIZE, maxEntries, 0);
        return new PortMap(fd, BpfAttr.objName(name), maxEntries);
    }

    /**
     * Steers UDP datagrams to {@code address:port} to {@code slot}, inserting or replacing that
     * (port, address) entry. Entries for other addresses of the port are not touched.
     *
     * @param address     the channel's bound address ({@link Inet4Address} or {@link Inet6Address}; a
     *                    scope id is ignored); a wildcard address ({@code 0.0.0.0}, {@code ::}) for the
     *                    port's wildcard entry of that family: any local address of the family not
     *                    claimed by a specific entry
     * @param maxFrameLen the longest frame (first buffer) the channel takes; 0 for no limit
     */
    public void put(int port, InetAddress address, int slot, int maxFrameLen) throws BpfException {
        if (slot < 0) {
            throw new IllegalArgumentException("negative slot " + slot);
        }
        if (maxFrameLen < 0) {
            throw new IllegalArgumentException("negative maxFrameLen " + maxFrameLen);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = key(arena, port, address);
            MemorySegment value = arena.allocate(VALUE_SIZE, 4);
            value.set(JAVA_INT, 0, slot);
            value.set(JAVA_INT, 4, maxFrameLen);
            update(key, value, BpfCommand.BPF_ANY, errno -> errno == org.nettyxdp.sys.Errno.E2BIG
                    ? "port map full: it holds at most " + maxEntries() + " (port, address) entries" : null);
        }
    }

    /**
     * Stops steering {@code address:port} ({@code address} a wildcard: the port's wildcard entry of its family);
     * returns {@code false} if that entry did not exist.
     */
    public boolean remove(int port, InetAddress address) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            return delete(key(arena, port, address));
        }
    }

    /**
     * The entry for exactly {@code address:port} ({@code address} a wildcard: the port's wildcard
     * entry of its family), or {@code null}. No wildcard fallback: this is the map's content, not the program's verdict.
     */
    public Entry get(int port, InetAddress address) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(VALUE_SIZE, 4);
            if (!lookup(key(arena, port, address), value)) {
                return null;
            }
            return new Entry(value.get(JAVA_INT, 0), value.get(JAVA_INT, 4));
        }
    }

    /** The zeroed 24-byte key of {@code address:port}. */
    private static MemorySegment key(Arena arena, int port, InetAddress address) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("UDP port out of range: " + port);
        }
        byte[] addr = address.getAddress(); // a wildcard is all zeros
        MemorySegment key = arena.allocate(KEY_SIZE, 4); // zeroed
        key.set(JAVA_INT, KEY_PORT, port);
        key.set(JAVA_INT, KEY_FAMILY, addr.length); // 4 or 16
        MemorySegment.copy(addr, 0, key, JAVA_BYTE, KEY_ADDR, addr.length);
        return key;
    }
}
