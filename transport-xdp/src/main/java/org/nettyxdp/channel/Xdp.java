package org.nettyxdp.channel;

import org.nettyxdp.bpf.LocalAddressMap;
import org.nettyxdp.bpf.PortMap;
import org.nettyxdp.bpf.UdpSteeringProgram;
import org.nettyxdp.bpf.XskMap;
import org.nettyxdp.sys.Arch;
import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.Syscalls;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tells whether the AF_XDP fast path can run in this JVM, as {@code io.netty.channel.epoll.Epoll}
 * does for epoll, so that an application can pick its transport at run time:
 *
 * <pre>{@code
 * EventLoopGroup group = Xdp.isAvailable()
 *         ? new XdpEventLoopGroup(1)
 *         : new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
 * Class<? extends DatagramChannel> channel = Xdp.isAvailable()
 *         ? XdpDatagramChannel.class : NioDatagramChannel.class;
 * }</pre>
 *
 * <p>The check runs once, on first use, in this order: Linux on x86_64 or aarch64; native access
 * enabled for this module ({@code --enable-native-access}), checked before any native call is made;
 * the capabilities the fast path needs ({@code CAP_NET_ADMIN}, {@code CAP_BPF}, {@code CAP_PERFMON},
 * {@code CAP_NET_RAW}, from {@code /proc/self/status}; {@code CAP_SYS_ADMIN} stands in for the BPF
 * ones, as in the kernel); a memlock limit that fits a default UMEM unless {@code CAP_IPC_LOCK} is
 * held; a kernel of 5.18 or newer (XDP {@code bpf_link}, AF_XDP shared UMEM, the
 * {@code bpf_xdp_get_buff_len} helper the steering program calls); and finally the kernel
 * itself: the steering program and its maps load, and an AF_XDP socket can be created. Nothing is
 * attached to any interface. Each failure is one exception whose message says what to do.
 *
 * <p>An {@link XdpDatagramChannel} also runs where this class reports unavailable, as a plain kernel UDP
 * socket with {@link XdpChannelOption#FAST_PATH} off; with the fast path on, its bind fails with the
 * kernel's error.
 */
public final class Xdp {
    /** Bytes of a UMEM with the default geometry (4096 frames of 2048 bytes), locked in memory. */
    private static final long DEFAULT_UMEM_BYTES = 4096L * 2048;
    private static final int MIN_KERNEL_MAJOR = 5;
    private static final int MIN_KERNEL_MINOR = 18;

    static final int CAP_NET_ADMIN = 12;
    static final int CAP_NET_RAW = 13;
    static final int CAP_IPC_LOCK = 14;
    static final int CAP_SYS_ADMIN = 21;
    static final int CAP_PERFMON = 38;
    static final int CAP_BPF = 39;

    private Xdp() {
    }

    /** Checked once, on first use. */
    private static final class Holder {
        static final Throwable CAUSE = check();
    }

    /** True if the AF_XDP fast path can run in this JVM. */
    public static boolean isAvailable() {
        return Holder.CAUSE == null;
    }

    /**
     * Why the fast path cannot run, or {@code null} if {@link #isAvailable()}. The message says what to
     * do; a failed kernel probe carries the kernel's error as its cause.
     */
    public static Throwable unavailabilityCause() {
        return Holder.CAUSE;
    }

    /**
     * Returns normally if {@link #isAvailable()}.
     *
     * @throws IllegalStateException if it is not, with {@link #unavailabilityCause()} as its cause
     */
    public static void ensureAvailability() {
        Throwable cause = Holder.CAUSE;
        if (cause != null) {
            throw new IllegalStateException("AF_XDP is not available: " + cause.getMessage(), cause);
        }
    }

    private static Throwable check() {
        try {
            String problem = platformProblem(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
            if (problem == null) {
                problem = nativeAccessProblem();
            }
            if (problem == null) {
                problem = privilegeProblem(readProc("/proc/self/status"), readProc("/proc/self/limits"));
            }
            if (problem == null) {
                problem = kernelProblem(readProc("/proc/sys/kernel/osrelease").strip());
            }
            if (problem != null) {
                return new UnsupportedOperationException(problem);
            }
            return probeKernel();
        } catch (Throwable t) {
            return new UnsupportedOperationException("the AF_XDP availability check failed: " + t, t);
        }
    }

    static String platformProblem(String os, String arch) {
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return "AF_XDP needs Linux; this is " + os + ": use NIO (or epoll/io_uring on Linux) here";
        }
        try {
            Arch.of(arch, ByteOrder.nativeOrder());
            return null;
        } catch (UnsupportedOperationException e) {
            return e.getMessage() + "; use NIO or epoll on this machine";
        }
    }

    private static String nativeAccessProblem() {
        Module module = Xdp.class.getModule();
        if (module.isNativeAccessEnabled()) {
            return null;
        }
        String flag = module.isNamed() ? "--enable-native-access=" + module.getName()
                : "--enable-native-access=ALL-UNNAMED";
        return "native access is not enabled for " + (module.isNamed() ? "module " + module.getName()
                : "the class path") + ": start the JVM with " + flag
                + " (the transport makes its system calls through the FFM API)";
    }

    /**
     * What the effective capabilities in {@code status} (the text of {@code /proc/self/status}) and the
     * memlock limit in {@code limits} ({@code /proc/self/limits}) lack, or null.
     */
    static String privilegeProblem(String status, String limits) {
        long caps = effectiveCapabilities(status);
        List<String> missing = new ArrayList<>();
        if (!has(caps, CAP_NET_ADMIN)) {
            missing.add("CAP_NET_ADMIN");
        }
        if (!has(caps, CAP_BPF) && !has(caps, CAP_SYS_ADMIN)) {
            missing.add("CAP_BPF");
        }
        if (!has(caps, CAP_PERFMON) && !has(caps, CAP_SYS_ADMIN)) {
            missing.add("CAP_PERFMON");
        }
        if (!has(caps, CAP_NET_RAW)) {
            missing.add("CAP_NET_RAW");
        }
        if (!missing.isEmpty()) {
            return "missing " + String.join(", ", missing) + " (effective capabilities "
                    + Long.toHexString(caps) + "): run as root, or grant the JVM CAP_NET_ADMIN, CAP_BPF,"
                    + " CAP_PERFMON and CAP_NET_RAW (e.g. setcap on the java binary, or AmbientCapabilities="
                    + " in a systemd unit)";
        }
        long memlock = memlockLimit(limits);
        if (!has(caps, CAP_IPC_LOCK) && memlock >= 0 && memlock < DEFAULT_UMEM_BYTES) {
            return "the memlock limit (RLIMIT_MEMLOCK) is " + memlock + " bytes, below the " + DEFAULT_UMEM_BYTES
                    + " bytes a default UMEM locks per interface queue: raise it (ulimit -l, LimitMEMLOCK= in a"
                    + " systemd unit, --ulimit memlock= in Docker) or grant CAP_IPC_LOCK";
        }
        return null;
    }

    /** The kernel release's problem ({@code uname -r}), or null if it is 5.18 or newer. */
    static String kernelProblem(String release) {
        String[] parts = release.split("[.\\-+]", 3);
        int major;
        int minor;
        try {
            major = Integer.parseInt(parts[0]);
            minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        } catch (NumberFormatException e) {
            return null; // an unusual release string: let the probe decide
        }
        if (major > MIN_KERNEL_MAJOR || major == MIN_KERNEL_MAJOR && minor >= MIN_KERNEL_MINOR) {
            return null;
        }
        return "kernel " + release + " is too old: the fast path needs Linux " + MIN_KERNEL_MAJOR + "."
                + MIN_KERNEL_MINOR + " or newer (XDP bpf_link, AF_XDP shared UMEM, bpf_xdp_get_buff_len); upgrade the kernel";
    }

    private static boolean has(long caps, int cap) {
        return (caps >>> cap & 1) != 0;
    }

    /** {@code CapEff} of a {@code /proc/PID/status} text; 0 if absent. */
    static long effectiveCapabilities(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
            }
        }
        return 0;
    }

    /** The soft {@code Max locked memory} of a {@code /proc/PID/limits} text in bytes; -1 if unlimited or absent. */
    static long memlockLimit(String limits) {
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max locked memory")) {
                String[] f = line.substring("Max locked memory".length()).strip().split("\\s+");
                return f[0].equals("unlimited") ? -1 : Long.parseLong(f[0]);
            }
        }
        return -1;
    }

    /**
     * Asks the kernel: the maps and the steering program load (bpf(), the verifier, CAP_BPF and
     * CAP_PERFMON at work), and an AF_XDP socket can be created. Nothing is attached.
     */
    private static Throwable probeKernel() {
        try (PortMap ports = PortMap.create("nx_probe_ports", 1);
             LocalAddressMap locals = LocalAddressMap.create("nx_probe_local", 1);
             XskMap xsks = XskMap.create("nx_probe_xsks", 1)) {
            UdpSteeringProgram.load(ports, locals, xsks, 1, new byte[6]).close();
        } catch (Exception e) {
            return new UnsupportedOperationException("the kernel refused to load the XDP steering program: "
                    + e.getMessage() + "; check the capabilities (CAP_BPF, CAP_PERFMON) and that the kernel has"
                    + " BPF and XDP enabled (CONFIG_BPF_SYSCALL, CONFIG_XDP_SOCKETS)", e);
        }
        try {
            int fd = Syscalls.socket(Linux.AF_XDP, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
            Syscalls.close(fd);
        } catch (Exception e) {
            return new UnsupportedOperationException("the kernel refused an AF_XDP socket: " + e.getMessage()
                    + "; check CAP_NET_RAW and that the kernel has CONFIG_XDP_SOCKETS", e);
        }
        return null;
    }

    private static String readProc(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }
}
