package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.nettyxdp.sys.Errno;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A {@code BPF_MAP_TYPE_XSKMAP}: index (u32) → AF_XDP socket, the target of
 * {@code bpf_redirect_map}. The value written is the socket's fd; the map holds its own reference
 * to the socket, so closing the socket fd alone does not remove it — call {@link #clear(int)}
 * (closing the XSK does remove it from the map in current kernels, but do not rely on it).
 *
 * <p>With {@link UdpSteeringProgram} the index of channel slot {@code s} on RX queue {@code q} is
 * {@code s * numQueues + q} ({@link UdpSteeringProgram#xskIndex}). The kernel does not let user
 * space read an XSKMAP back.
 */
public final class XskMap extends BpfMap {
    private static final int ENOTSOCK = 88;

    private XskMap(int fd, String name, int maxEntries) {
        super(fd, name, BpfCommand.MAP_TYPE_XSKMAP, 4, 4, maxEntries);
    }

    /** Creates an XSKMAP with {@code maxEntries} indexes. */
    public static XskMap create(String name, int maxEntries) throws BpfException {
        int fd = createFd(BpfCommand.MAP_TYPE_XSKMAP, name, 4, 4, maxEntries, 0);
        return new XskMap(fd, BpfAttr.objName(name), maxEntries);
    }

    /**
     * Points {@code index} at the AF_XDP socket {@code xskFd}, which must be bound (to a device
     * and queue) already.
     *
     * @throws BpfException with a clear message if {@code xskFd} is not a socket ({@code ENOTSOCK}),
     *                      not a bound AF_XDP socket ({@code EOPNOTSUPP}) or {@code index} is out of range
     */
    public void set(int index, int xskFd) throws BpfException {
        checkIndex(index);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocateFrom(JAVA_INT, index);
            MemorySegment value = arena.allocateFrom(JAVA_INT, xskFd);
            update(key, value, BpfCommand.BPF_ANY, errno -> switch (errno) {
                case ENOTSOCK, Errno.EBADF -> "fd " + xskFd + " at index " + index
                        + " is not a socket: an XSKMAP holds AF_XDP socket fds";
                case Errno.EOPNOTSUPP -> "fd " + xskFd + " at index " + index
                        + " is not a bound AF_XDP socket: bind the XSK to its device and queue first";
                case Errno.EINVAL -> "index " + index + " or fd " + xskFd + " refused";
                default -> null;
            });
        }
    }

    /**
     * Removes the socket at {@code index}, if any; packets steered there then take the program's
     * fallback action. Idempotent: the kernel does not report whether the index held a socket.
     */
    public void clear(int index) throws BpfException {
        checkIndex(index);
        try (Arena arena = Arena.ofConfined()) {
            delete(arena.allocateFrom(JAVA_INT, index));
        }
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= maxEntries()) {
            throw new IndexOutOfBoundsException("XSKMAP " + name() + ": index " + index + " outside [0, "
                    + maxEntries() + ")");
        }
    }
}
