package org.nettyxdp.xsk;

import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The RX queues a device really uses, asked from its driver ({@code ETHTOOL_GCHANNELS}, what
 * {@code ethtool -l} prints) in the calling thread's network namespace, where sysfs may show another
 * namespace's devices.
 */
final class RxQueues {
    private static final long SIOCETHTOOL = 0x8946;
    private static final int ETHTOOL_GCHANNELS = 0x3c;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    /** struct ethtool_channels: cmd, max_rx, max_tx, max_other, max_combined, rx, tx, other, combined. */
    private static final int CHANNELS_SIZE = 36;
    private static final int RX_COUNT = 20;
    private static final int COMBINED_COUNT = 32;
    private static final MethodHandle IOCTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));

    private RxQueues() {
    }

    /** RX (plus combined) channels of {@code name}, or -1 when the driver does not tell (e.g. {@code lo}). */
    static int of(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length >= IFNAMSIZ) {
            return -1;
        }
        int fd;
        try {
            fd = Syscalls.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        } catch (SyscallException e) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment channels = arena.allocate(CHANNELS_SIZE, 4);
            channels.set(JAVA_INT, 0, ETHTOOL_GCHANNELS);
            MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
            MemorySegment.copy(n, 0, ifr, JAVA_BYTE, 0, n.length);
            ifr.set(ADDRESS, IFNAMSIZ, channels);
            int r = (int) IOCTL.invokeExact(fd, SIOCETHTOOL, ifr);
            if (r < 0) {
                return -1;
            }
            int queues = channels.get(JAVA_INT, RX_COUNT) + channels.get(JAVA_INT, COMBINED_COUNT);
            return queues > 0 ? queues : -1;
        } catch (Throwable t) {
            return -1;
        } finally {
            Syscalls.close(fd);
        }
    }
}
