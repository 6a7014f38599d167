package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The addresses {@link UdpSteeringProgram} treats as this host's: a {@code BPF_MAP_TYPE_HASH} whose
 * keys are {@code struct { u32 family; u8 addr[16]; }} (20 bytes: family 4 with the IPv4 address in
 * {@code addr[0..3]} and zeros after it, or 16 with the IPv6 address, network byte order) and whose
 * 4-byte values are unused. A frame whose destination is not in the map is left to the kernel, which
 * forwards it, hands it to another tenant of the link or drops it, as it sees fit.
 */
public final class LocalAddressMap extends BpfMap {
    /** Key bytes: family and a 16-byte address. */
    public static final int KEY_SIZE = 20;
    /** Value bytes (unused). */
    public static final int VALUE_SIZE = 4;

    private LocalAddressMap(int fd, String name, int maxEntries) {
        super(fd, name, BpfCommand.MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, maxEntries);
    }

    /** Creates a map holding at most {@code maxEntries} addresses. */
    public static LocalAddressMap create(String name, int maxEntries) throws BpfException {
        int fd = createFd(BpfCommand.MAP_TYPE_HASH, name, KEY_SIZE, VALUE_SIZE, maxEntries, 0);
        return new LocalAddressMap(fd, BpfAttr.objName(name), maxEntries);
    }

    /** Adds {@code address} (a scope id is ignored); adding one already present is a no-op. */
    public void add(InetAddress address) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            update(key(arena, address), arena.allocate(VALUE_SIZE, 4), BpfCommand.BPF_ANY,
                    errno -> errno == org.nettyxdp.sys.Errno.E2BIG
                            ? "local address map full: it holds at most " + maxEntries() + " addresses" : null);
        }
    }

    /** Removes {@code address}; returns {@code false} if it was absent. */
    public boolean remove(InetAddress address) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            return delete(key(arena, address));
        }
    }

    /** Whether the map holds {@code address}. */
    public boolean contains(InetAddress address) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            return lookup(key(arena, address), arena.allocate(VALUE_SIZE, 4));
        }
    }

    private static MemorySegment key(Arena arena, InetAddress address) {
        byte[] addr = address.getAddress();
        MemorySegment key = arena.allocate(KEY_SIZE, 4); // zeroed
        key.set(JAVA_INT, 0, addr.length);
        MemorySegment.copy(addr, 0, key, JAVA_BYTE, 4, addr.length);
        return key;
    }
}
