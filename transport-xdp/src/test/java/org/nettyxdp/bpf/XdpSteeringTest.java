package org.nettyxdp.bpf;

import org.nettyxdp.testing.Frames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-interface bundle on a veth pair. */
class XdpSteeringTest {

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    /** {@code ip -d link show} of the pair's host end. */
    private static String show(VethPair veth) {
        return Shell.run("ip -d link show dev " + veth.hostIf());
    }

    @Test
    void opensAttachesAndClosesInOrder() throws Exception {
        {
            VethPair veth = HOSTS.vethPair(2);
            XdpSteering s = XdpSteering.open(org.nettyxdp.sys.Syscalls.ifNameToIndex(veth.hostIf()), new byte[] {2, 0, 0, 0, 0, 1}, 2, 4, 16, XdpMode.SKB,
                    false);
            java.net.InetAddress any = java.net.InetAddress.getByName("0.0.0.0");
            s.locals().add(java.net.InetAddress.getByName("10.0.0.2"));
            try {
                assertTrue(show(veth).contains(" xdpgeneric "), show(veth));
                assertEquals(8, s.xsks().maxEntries());
                int a = s.allocateSlot();
                int b = s.allocateSlot();
                assertEquals(0, a);
                assertEquals(1, b);
                s.putPort(9000, any, b, 2048);
                assertEquals(new PortMap.Entry(1, 2048), s.ports().get(9000, any));
                // no sockets set: the production program passes steered frames to the kernel
                byte[] frame = Frames.eth(Frames.ETH_IPV4, Frames.ipv4(Frames.UDP, Frames.udp(1, 9000, 8)));
                assertEquals(XdpAction.PASS, ProgTestRun.run(s.program(), frame).action());
                s.clearSocket(b, 1);
                assertTrue(s.removePort(9000, any));
                assertFalse(s.removePort(9000, any));
                s.releaseSlot(a);
                assertEquals(0, s.allocateSlot());
                s.allocateSlot();
                s.allocateSlot();
                assertThrows(IllegalStateException.class, s::allocateSlot);
                assertThrows(IllegalArgumentException.class, () -> s.putPort(1, any, 4, 0));
            } finally {
                s.close();
                s.close();
            }
            assertFalse(show(veth).contains("xdp"), show(veth));
        }
    }

    @Test
    void failedAttachLeavesNothingBehind() throws Exception {
        int lo = org.nettyxdp.sys.Syscalls.ifNameToIndex("lo");
        BpfException e = assertThrows(BpfException.class, () -> XdpSteering.open(lo, new byte[6], 1, 1, 1, XdpMode.DRV, false));
        assertTrue(e.getMessage().contains("XdpMode.SKB"), e.getMessage());
    }
}
