package org.nettyxdp.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.nettyxdp.sys.Errno;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An XDP program attached to a network device through a {@code bpf_link}
 * ({@code BPF_LINK_CREATE}, attach type {@code BPF_XDP}). The attachment lives exactly as long as
 * the link fd: {@link #close()} detaches, and so does the death of the process, so a crashed JVM
 * never leaves a program steering traffic into sockets that no longer exist.
 *
 * <p>The link holds its own reference to the program; the {@link BpfProgram} may be closed while
 * attached.
 */
public final class XdpLink extends BpfFd {
    private static final int ERANGE = Errno.ERANGE;
    private static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

    private final int ifindex;
    private final XdpMode mode;
    private final String programName;

    private XdpLink(int fd, int ifindex, XdpMode mode, String programName) {
        super(fd);
        this.ifindex = ifindex;
        this.mode = mode;
        this.programName = programName;
    }

    /**
     * Attaches {@code program} (an XDP program, e.g. from {@link BpfProgram#loadXdp}) to the device
     * {@code ifindex} in {@code mode}.
     *
     * @throws BpfException with a message saying what to do: {@code EOPNOTSUPP} when the driver has
     *                      no native XDP ({@link XdpMode#DRV}), {@code EBUSY}/{@code EEXIST} when
     *                      another XDP program is attached, {@code EINVAL} naming a missing device
     */
    public static XdpLink attach(BpfProgram program, int ifindex, XdpMode mode) throws BpfException {
        if (ifindex <= 0) {
            throw new IllegalArgumentException("invalid ifindex " + ifindex);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = BpfAttr.allocate(arena);
            attr.set(JAVA_INT, BpfAttr.LINK_PROG_FD, program.fd());
            attr.set(JAVA_INT, BpfAttr.LINK_TARGET_IFINDEX, ifindex);
            attr.set(JAVA_INT, BpfAttr.LINK_ATTACH_TYPE, BpfCommand.ATTACH_TYPE_XDP);
            attr.set(JAVA_INT, BpfAttr.LINK_FLAGS, mode.flags());
            String what = program.name() + " to ifindex " + ifindex + " in " + mode + " mode";
            int fd = (int) BpfAttr.call(BpfCommand.LINK_CREATE, attr, what, errno -> hint(errno, ifindex, mode));
            return new XdpLink(fd, ifindex, mode, program.name());
        }
    }

    private static String hint(int errno, int ifindex, XdpMode mode) {
        String name = interfaceName(ifindex);
        String dev = name == null ? "ifindex " + ifindex : name + " (ifindex " + ifindex + ")";
        String arg = name == null ? "<name>" : name;
        return switch (errno) {
            case Errno.EOPNOTSUPP -> mode == XdpMode.DRV
                    ? "the driver of " + dev + " has no native XDP: use XdpMode.SKB (generic XDP) or AUTO"
                    : "XDP is not supported on " + dev + " in " + mode + " mode";
            case Errno.EBUSY -> "another XDP program or link is already attached to " + dev
                    + ": stop its owner, or detach it (ip link set dev " + arg + " xdp off; see bpftool net show)";
            case Errno.EEXIST -> "an XDP program is attached to " + dev + " in the other mode (native and generic"
                    + " cannot be active together): detach it (ip link set dev " + arg + " xdp off)";
            case Errno.ENODEV -> "no network device with ifindex " + ifindex;
            case Errno.EINVAL -> name == null && Files.isDirectory(SYS_CLASS_NET)
                    ? "no network device with ifindex " + ifindex
                    : "the kernel refused the attachment to " + dev + ": the program must be an XDP program"
                    + " loaded with expected attach type BPF_XDP, and a program without frags support cannot"
                    + " attach natively to a device whose MTU needs multi-buffer frames";
            case ERANGE -> "the MTU of " + dev + " is too large for XDP without multi-buffer support: lower the"
                    + " MTU or load the program with frags";
            default -> null;
        };
    }

    /** Best effort: the name of {@code ifindex} from /sys/class/net, or {@code null}. */
    static String interfaceName(int ifindex) {
        try (DirectoryStream<Path> devs = Files.newDirectoryStream(SYS_CLASS_NET)) {
            for (Path dev : devs) {
                Path idx = dev.resolve("ifindex");
                try {
                    if (Integer.parseInt(Files.readString(idx).trim()) == ifindex) {
                        return dev.getFileName().toString();
                    }
                } catch (IOException | NumberFormatException e) {
                    // device vanished or odd entry: skip
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** The link's file descriptor. */
    @Override
    public int fd() {
        return rawFd();
    }

    /** The device the program is attached to. */
    public int ifindex() {
        return ifindex;
    }

    /** The mode it was attached in. */
    public XdpMode mode() {
        return mode;
    }

    @Override
    String describe() {
        return "XDP link of " + programName + " on ifindex " + ifindex;
    }

    /** Detaches the program (closes the link fd); idempotent. */
    @Override
    public void close() {
        super.close();
    }

    @Override
    public String toString() {
        return "XdpLink[" + programName + " on ifindex " + ifindex + ", " + mode + ", fd=" + rawFd()
                + closedSuffix() + "]";
    }
}
