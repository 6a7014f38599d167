package org.nettyxdp.channel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of {@link Xdp}'s check that read text: platform, capabilities, memlock, kernel release. */
class XdpTest {
    private static final String ROOT_STATUS = "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
    private static final String LIMITS = "Limit                     Soft Limit           Hard Limit           Units\n"
            + "Max locked memory         %s                 %s                 bytes\n";

    @Test
    void platform() {
        assertNull(Xdp.platformProblem("Linux", "amd64"));
        assertNull(Xdp.platformProblem("Linux", "aarch64"));
        assertTrue(Xdp.platformProblem("Mac OS X", "aarch64").startsWith("AF_XDP needs Linux"));
        assertTrue(Xdp.platformProblem("Linux", "riscv64").contains("architecture 'riscv64'"));
    }

    @Test
    void capabilities() {
        String limits = LIMITS.formatted("unlimited", "unlimited");
        assertNull(Xdp.privilegeProblem(ROOT_STATUS, limits));
        long netAdminRawSysAdmin = 1L << Xdp.CAP_NET_ADMIN | 1L << Xdp.CAP_NET_RAW | 1L << Xdp.CAP_SYS_ADMIN;
        assertNull(Xdp.privilegeProblem("CapEff:\t" + Long.toHexString(netAdminRawSysAdmin) + "\n", limits));
        assertTrue(Xdp.privilegeProblem("CapEff:\t0000000000000000\n", limits)
                .startsWith("missing CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_RAW"));
        long noPerfmon = 1L << Xdp.CAP_NET_ADMIN | 1L << Xdp.CAP_NET_RAW | 1L << Xdp.CAP_BPF;
        assertTrue(Xdp.privilegeProblem("CapEff:\t" + Long.toHexString(noPerfmon) + "\n", limits)
                .startsWith("missing CAP_PERFMON "));
    }

    @Test
    void memlock() {
        assertEquals(-1, Xdp.memlockLimit(LIMITS.formatted("unlimited", "unlimited")));
        assertEquals(8388608, Xdp.memlockLimit(LIMITS.formatted("8388608", "8388608")));
        long noIpcLock = 0xffffffffffL & ~(1L << Xdp.CAP_IPC_LOCK);
        String status = "CapEff:\t" + Long.toHexString(noIpcLock) + "\n";
        assertNull(Xdp.privilegeProblem(status, LIMITS.formatted("8388608", "8388608")));
        assertTrue(Xdp.privilegeProblem(status, LIMITS.formatted("65536", "65536"))
                .startsWith("the memlock limit (RLIMIT_MEMLOCK) is 65536 bytes"));
        assertNull(Xdp.privilegeProblem(ROOT_STATUS, LIMITS.formatted("65536", "65536")));
    }

    @Test
    void kernelRelease() {
        assertNull(Xdp.kernelProblem("6.18.0-1-amd64"));
        assertNull(Xdp.kernelProblem("5.18.0"));
        assertTrue(Xdp.kernelProblem("5.15.0").startsWith("kernel 5.15.0 is too old"));
        assertTrue(Xdp.kernelProblem("5.4.0-150-generic").startsWith("kernel 5.4.0-150-generic is too old"));
        assertNull(Xdp.kernelProblem("weird"));
    }
}
