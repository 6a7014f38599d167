package org.nettyxdp.sys;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The CPU architectures whose Linux ABI this transport knows: where the kernel's struct layouts and
 * raw system call numbers differ between them, the code asks {@link #current()}.
 *
 * <p>Only the ABI facts the transport depends on are recorded here. Every other struct it uses (the
 * AF_XDP, socket address and netlink ones) is built from fixed-width, naturally aligned fields and so
 * has the same layout on every architecture listed.
 */
public enum Arch {
    /** x86_64 (Java's {@code amd64}): its own system call table; {@code struct epoll_event} is packed. */
    X86_64(321, true, "amd64", "x86_64"),
    /** aarch64 (little-endian): the generic system call table; {@code struct epoll_event} is not packed. */
    AARCH64(280, false, "aarch64", "arm64");

    private static final Arch CURRENT = detect(System.getProperty("os.arch", ""), ByteOrder.nativeOrder());

    private final int sysBpf;
    private final boolean packedEpollEvent;
    private final String[] names;

    Arch(int sysBpf, boolean packedEpollEvent, String... names) {
        this.sysBpf = sysBpf;
        this.packedEpollEvent = packedEpollEvent;
        this.names = names;
    }

    /**
     * The architecture this JVM runs on.
     *
     * @throws UnsupportedOperationException naming the architecture and the supported ones, if unknown
     */
    public static Arch current() {
        if (CURRENT == null) {
            throw unsupported(System.getProperty("os.arch", ""), ByteOrder.nativeOrder());
        }
        return CURRENT;
    }

    /**
     * The architecture {@code osArch} (a value of the {@code os.arch} property) with byte order
     * {@code order} names.
     *
     * @throws UnsupportedOperationException naming the architecture and the supported ones, if unknown
     */
    public static Arch of(String osArch, ByteOrder order) {
        Arch arch = detect(osArch, order);
        if (arch == null) {
            throw unsupported(osArch, order);
        }
        return arch;
    }

    private static Arch detect(String osArch, ByteOrder order) {
        if (order != ByteOrder.LITTLE_ENDIAN) {
            return null;
        }
        for (Arch arch : values()) {
            for (String name : arch.names) {
                if (name.equals(osArch)) {
                    return arch;
                }
            }
        }
        return null;
    }

    private static UnsupportedOperationException unsupported(String osArch, ByteOrder order) {
        String supported = Arrays.stream(values()).map(a -> a.name().toLowerCase(Locale.ROOT) + " (os.arch "
                + String.join("/", a.names) + ")").collect(Collectors.joining(", "));
        return new UnsupportedOperationException("netty-xdp does not know the Linux ABI of architecture '"
                + osArch + "' (" + order + "); supported, little-endian only: " + supported);
    }

    /** The number of the {@code bpf(2)} system call ({@code __NR_bpf}), which libc has no wrapper for. */
    public int sysBpf() {
        return sysBpf;
    }

    /** True if {@code struct epoll_event} is packed ({@code EPOLL_PACKED} in {@code linux/eventpoll.h}). */
    public boolean packedEpollEvent() {
        return packedEpollEvent;
    }
}
