package org.nettyxdp.bpf;

import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.Frames;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nettyxdp.sys.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.bpf.Reg.R0;
import static org.nettyxdp.bpf.Reg.R1;
import static org.nettyxdp.bpf.Reg.R2;

/** Program load, verifier log and test run against the real kernel. */
class BpfProgramTest {

    @BeforeEach
    void root() {
        TestHosts.assumeRoot("bpf(2) (CAP_BPF + CAP_NET_ADMIN)");
    }

    @Test
    void loadsAndRunsTrivialProgram() throws Exception {
        long[] code = new BpfAssembler().mov64(R0, XdpAction.TX.code()).exit().build();
        try (BpfProgram p = BpfProgram.loadXdp(code, "nx_test_tx", false)) {
            assertTrue(p.fd() > 0);
            assertEquals("nx_test_tx", p.name());
            TestRunResult r = ProgTestRun.run(p, Frames.eth(Frames.ETH_IPV4, new byte[46]));
            assertEquals(XdpAction.TX, r.action());
            assertEquals(60, r.dataOut().length);
        }
    }

    @Test
    void verifierRejectionCarriesTheLog() {
        // reads the packet without a bounds check against data_end
        long[] code = new BpfAssembler()
                .ldx(MemSize.W, R2, R1, 0)
                .ldx(MemSize.B, R0, R2, 0)
                .exit()
                .build();
        BpfException e = assertThrows(BpfException.class, () -> BpfProgram.loadXdp(code, "nx_test_bad", false));
        assertEquals(Errno.EACCES, e.errno());
        String m = e.getMessage();
        assertTrue(m.startsWith("bpf(BPF_PROG_LOAD nx_test_bad) failed: EACCES (the verifier rejected the program)"), m);
        assertTrue(m.contains("verifier log"), m);
        assertTrue(m.contains("invalid access to packet"), m);
    }

    @Test
    void uninitialisedRegisterIsRejectedWithLog() {
        long[] code = new BpfAssembler().mov64(R0, R2).exit().build();
        BpfException e = assertThrows(BpfException.class, () -> BpfProgram.loadXdp(code, "nx_test_uninit", false));
        assertTrue(e.getMessage().contains("R2 !read_ok"), e.getMessage());
    }

    @Test
    void testRunRejectsFrameShorterThanEthernetHeader() throws Exception {
        long[] code = new BpfAssembler().mov64(R0, XdpAction.PASS.code()).exit().build();
        try (BpfProgram p = BpfProgram.loadXdp(code, "nx_test_pass", false)) {
            BpfException e = assertThrows(BpfException.class, () -> ProgTestRun.run(p, new byte[13]));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("14 bytes"), e.getMessage());
            assertEquals(XdpAction.PASS, ProgTestRun.run(p, new byte[14]).action());
        }
    }

    @Test
    void dropProgramCountsEveryRun() throws Exception {
        try (CounterMap counters = CounterMap.create("nx_test_drop", 1);
             BpfProgram drop = XdpDropProgram.load(counters)) {
            byte[] frame = Frames.eth(Frames.ETH_IPV4, Frames.ipv4(Frames.UDP, Frames.udp(1, 2, 18)));
            TestRunResult r = ProgTestRun.run(drop, frame, 1000, 0, 0);
            assertEquals(XdpAction.DROP, r.action());
            assertEquals(XdpAction.DROP, ProgTestRun.run(drop, frame).action());
            assertEquals(1001, counters.sum(XdpDropProgram.PACKETS));
        }
    }

    @Test
    void closedProgramRefusesUse() throws Exception {
        long[] code = new BpfAssembler().mov64(R0, 2).exit().build();
        BpfProgram p = BpfProgram.loadXdp(code, "nx_test_close", false);
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, () -> ProgTestRun.run(p, new byte[14]));
    }
}
