package org.nettyxdp.bpf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.Syscalls;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attaching through bpf_link to a veth pair and to lo, checked with {@code ip -d link show}. */
class XdpLinkTest {
    /** First line of ip link: "mtu 1500 xdpgeneric qdisc ..." (xdp, xdpgeneric or xdpoffload). */
    private static final Pattern MODE = Pattern.compile(" mtu \\d+ (xdp\\w*) ");
    private static final Pattern PROG = Pattern.compile("prog/xdp\\w* id (\\d+)");

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static BpfProgram passProgram() throws BpfException {
        return BpfProgram.loadXdp(new BpfAssembler().mov64(Reg.R0, XdpAction.PASS.code()).exit().build(),
                "nx_test_link", false);
    }

    /** {@code ip -d link show} of the pair's host end. */
    private static String show(VethPair veth) {
        return Shell.run("ip -d link show dev " + veth.hostIf());
    }

    /** The attachment kind ("xdp" native, "xdpgeneric") shown by ip, or null if none. */
    private static String attached(VethPair veth) {
        String show = show(veth);
        Matcher m = MODE.matcher(show);
        String mode = m.find() ? m.group(1) : null;
        assertEquals(mode != null, PROG.matcher(show).find(), "mode flag and prog id agree: " + show);
        return mode;
    }

    @ParameterizedTest
    @EnumSource(XdpMode.class)
    void attachesAndDetachesOnClose(XdpMode mode) throws Exception {
        try (VethPair veth = HOSTS.vethPair(1);
             BpfProgram prog = passProgram()) {
            assertEquals(null, attached(veth), "clean device");
            XdpLink link = XdpLink.attach(prog, Syscalls.ifNameToIndex(veth.hostIf()), mode);
            try {
                String kind = attached(veth);
                assertEquals(mode == XdpMode.SKB ? "xdpgeneric" : "xdp", kind, show(veth));
                assertEquals(mode, link.mode());
                assertEquals(Syscalls.ifNameToIndex(veth.hostIf()), link.ifindex());
            } finally {
                link.close();
            }
            assertTrue(link.isClosed());
            assertEquals(null, attached(veth), "detached after close: " + show(veth));
        }
    }

    @Test
    void linkKeepsProgramAliveAfterProgramFdCloses() throws Exception {
        try (VethPair veth = HOSTS.vethPair(1)) {
            XdpLink link;
            try (BpfProgram prog = passProgram()) {
                link = XdpLink.attach(prog, Syscalls.ifNameToIndex(veth.hostIf()), XdpMode.SKB);
            }
            try {
                assertEquals("xdpgeneric", attached(veth));
            } finally {
                link.close();
            }
            assertEquals(null, attached(veth));
        }
    }

    @Test
    void secondAttachIsBusyWithAClearMessage() throws Exception {
        try (VethPair veth = HOSTS.vethPair(1);
             BpfProgram prog = passProgram();
             XdpLink first = XdpLink.attach(prog, Syscalls.ifNameToIndex(veth.hostIf()), XdpMode.DRV)) {
            BpfException same = assertThrows(BpfException.class, () -> XdpLink.attach(prog, Syscalls.ifNameToIndex(veth.hostIf()), XdpMode.DRV));
            assertEquals(Errno.EBUSY, same.errno());
            assertTrue(same.getMessage().contains("already attached"), same.getMessage());
            BpfException other = assertThrows(BpfException.class,
                    () -> XdpLink.attach(prog, Syscalls.ifNameToIndex(veth.hostIf()), XdpMode.SKB));
            assertTrue(other.errno() == Errno.EEXIST || other.errno() == Errno.EBUSY, other.getMessage());
            assertTrue(other.getMessage().contains("detach"), other.getMessage());
            assertEquals("xdp", attached(veth), "first link still attached: " + first);
        }
    }

    @Test
    void nativeModeOnLoopbackIsNotSupported() throws Exception {
        int lo = Syscalls.ifNameToIndex("lo");
        try (BpfProgram prog = passProgram()) {
            BpfException e = assertThrows(BpfException.class, () -> XdpLink.attach(prog, lo, XdpMode.DRV));
            assertEquals(Errno.EOPNOTSUPP, e.errno());
            String m = e.getMessage();
            assertTrue(m.contains("BPF_LINK_CREATE"), m);
            assertTrue(m.contains("no native XDP"), m);
            assertTrue(m.contains("XdpMode.SKB"), m);
        }
    }

    @Test
    void missingDeviceIsReported() throws Exception {
        try (BpfProgram prog = passProgram()) {
            BpfException e = assertThrows(BpfException.class, () -> XdpLink.attach(prog, 999_999, XdpMode.SKB));
            assertEquals(Errno.EINVAL, e.errno()); // the kernel says EINVAL, not ENODEV
            assertTrue(e.getMessage().contains("no network device with ifindex 999999"), e.getMessage());
        }
    }
}
