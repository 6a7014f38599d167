package org.nettyxdp.netlink;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code netdev} generic-netlink query against the running kernel: the family resolves, a veth
 * reports XDP features and no AF_XDP TX-metadata features (so raw channels compute checksums in
 * software there), and a missing device is a clear error.
 */
class GenNetlinkTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    @Test
    void resolvesFamiliesByName() throws Exception {
        try (GenNetlink genl = new GenNetlink()) {
            assertEquals(GenNetlink.GENL_ID_CTRL, genl.familyId("nlctrl"));
            assertEquals(-1, genl.familyId("nx_nofamily"));
            int netdev = genl.familyId("netdev");
            assumeTrue(netdev > 0, "kernel without the netdev family (before 6.3)");
            assertNotEquals(GenNetlink.GENL_ID_CTRL, netdev);
        }
    }

    @Test
    void vethAdvertisesXdpButNoTxMetadata() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex;
        try (RtNetlink rtnl = new RtNetlink()) {
            ifindex = rtnl.link(pair.hostIf()).index();
        }
        try (GenNetlink genl = new GenNetlink()) {
            assumeTrue(genl.familyId("netdev") > 0, "kernel without the netdev family (before 6.3)");
            NetdevFeatures f = genl.devGet(ifindex);
            assertTrue((f.xdpFeatures() & NetdevFeatures.XDP_ACT_BASIC) != 0, "veth runs XDP natively: " + f);
            assertTrue((f.xdpFeatures() & NetdevFeatures.XDP_ACT_REDIRECT) != 0, f.toString());
            assertEquals(0, f.xskFeatures(), "veth has no AF_XDP TX metadata: " + f);
            assertFalse(f.txChecksumOffload());
            assertFalse(f.txTimestamp());
            assertFalse(f.txLaunchTime());
            assertEquals(f, GenNetlink.netdevFeatures(ifindex), "the one-shot query says the same");
        }
    }

    @Test
    void unknownDeviceIsAClearError() throws Exception {
        try (GenNetlink genl = new GenNetlink()) {
            assumeTrue(genl.familyId("netdev") > 0, "kernel without the netdev family (before 6.3)");
            NetlinkException e = assertThrows(NetlinkException.class, () -> genl.devGet(0x7fff_fff0));
            assertEquals(org.nettyxdp.sys.Errno.ENODEV, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("NETDEV_CMD_DEV_GET"), e.getMessage());
        }
    }
}
