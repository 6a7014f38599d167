package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Decoding of hand-built messages, malformed ones, and random corruption (never anything but our exception). */
class DecodeTest {
    private static final byte[] MAC = {2, 0, 0, 0, 0, 7};

    static byte[] linkMessage() {
        return new MsgBuilder(Rtnl.RTM_NEWLINK, 0, 1)
                .u8(0).u8(0).i16(LinkInfo.ARPHRD_ETHER).i32(7).i32(LinkInfo.IFF_UP | LinkInfo.IFF_RUNNING).i32(0)
                .attrString(Rtnl.IFLA_IFNAME, "veth7")
                .attrU32(Rtnl.IFLA_MTU, 1500)
                .attr(Rtnl.IFLA_ADDRESS, MAC)
                .attrU8(Rtnl.IFLA_OPERSTATE, LinkInfo.OPER_UP)
                .attrU32(Rtnl.IFLA_NUM_TX_QUEUES, 3)
                .attrU32(Rtnl.IFLA_NUM_RX_QUEUES, 4)
                .begin(Rtnl.IFLA_LINKINFO).attrString(Rtnl.IFLA_INFO_KIND, "veth").end()
                .begin(Rtnl.IFLA_XDP).attrU8(Rtnl.IFLA_XDP_ATTACHED, XdpAttachment.DRIVER)
                .attrU32(Rtnl.IFLA_XDP_DRV_PROG_ID, 42).attrU32(Rtnl.IFLA_XDP_PROG_ID, 42).end()
                .attrU32(200, 1) // unknown attribute: ignored
                .build();
    }

    static byte[] addressMessage() {
        return new MsgBuilder(Rtnl.RTM_NEWADDR, 0, 1)
                .u8(10).u8(64).u8(0x80).u8(AddressInfo.SCOPE_LINK).i32(7)
                .attr(Rtnl.IFA_ADDRESS, new byte[] {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
                .attrU32(Rtnl.IFA_FLAGS, 0x82)
                .build();
    }

    static byte[] routeMessage() {
        return new MsgBuilder(Rtnl.RTM_NEWROUTE, 0, 1)
                .u8(2).u8(32).u8(0).u8(0).u8(254).u8(0).u8(0).u8(Route.RTN_UNICAST).i32(0x200)
                .attr(Rtnl.RTA_DST, new byte[] {10, 88, 1, 5})
                .attrU32(Rtnl.RTA_OIF, 7)
                .attr(Rtnl.RTA_GATEWAY, new byte[] {10, 77, 1, 2})
                .attr(Rtnl.RTA_PREFSRC, new byte[] {10, 77, 1, 1})
                .attrU32(Rtnl.RTA_TABLE, 1000)
                .begin(Rtnl.RTA_METRICS).attrU32(Rtnl.RTAX_MTU, 1400).end()
                .build();
    }

    static byte[] neighbourMessage() {
        return new MsgBuilder(Rtnl.RTM_NEWNEIGH, 0, 1)
                .u8(2).u8(0).i16(0).i32(7).i16(Neighbour.NUD_STALE).u8(0).u8(1)
                .attr(Rtnl.NDA_DST, new byte[] {10, 77, 1, 2})
                .attr(Rtnl.NDA_LLADDR, MAC)
                .build();
    }

    @Test
    void link() throws Exception {
        LinkInfo l = LinkInfo.decode(MsgBuilder.segment(linkMessage()));
        assertEquals(new LinkInfo(7, "veth7", "veth", 1, LinkInfo.IFF_UP | LinkInfo.IFF_RUNNING, 1500,
                MacAddress.of(MAC), 4, 3, LinkInfo.OPER_UP, new XdpAttachment(XdpAttachment.DRIVER, 42, 42, 0, 0)), l);
        assertTrue(l.isUp() && l.isRunning() && l.isEthernet() && !l.isLoopback() && l.xdp().isAttached());
    }

    @Test
    void address() throws Exception {
        AddressInfo a = AddressInfo.decode(MsgBuilder.segment(addressMessage()));
        assertEquals(7, a.ifindex());
        assertEquals(64, a.prefixLength());
        assertEquals(0x82, a.flags(), "IFA_FLAGS overrides ifa_flags");
        Inet6Address v6 = assertInstanceOf(Inet6Address.class, a.address());
        assertEquals(7, v6.getScopeId(), "link-local addresses carry the ifindex as scope id");
    }

    @Test
    void route() throws Exception {
        Route r = Route.decode(MsgBuilder.segment(routeMessage()), null);
        assertEquals(InetAddress.getByName("10.88.1.5"), r.destination());
        assertEquals(InetAddress.getByName("10.77.1.2"), r.gateway());
        assertEquals(r.gateway(), r.nextHop());
        assertEquals(InetAddress.getByName("10.77.1.1"), r.preferredSource());
        assertEquals(1000, r.table(), "RTA_TABLE overrides rtm_table");
        assertEquals(1400, r.mtu());
        assertEquals(7, r.oif());
        assertTrue(r.isUnicast());
    }

    @Test
    void routeViaIpv6Gateway() throws Exception {
        byte[] via = new byte[18];
        via[0] = 10; // AF_INET6, little-endian u16
        via[2] = (byte) 0xfe;
        via[3] = (byte) 0x80;
        via[17] = 1;
        byte[] m = new MsgBuilder(Rtnl.RTM_NEWROUTE, 0, 1)
                .u8(2).u8(32).u8(0).u8(0).u8(254).u8(0).u8(0).u8(Route.RTN_UNICAST).i32(0)
                .attrU32(Rtnl.RTA_OIF, 3)
                .attr(Rtnl.RTA_VIA, via)
                .build();
        Route r = Route.decode(MsgBuilder.segment(m), InetAddress.getByName("192.0.2.9"));
        Inet6Address gw = assertInstanceOf(Inet6Address.class, r.gateway());
        assertEquals(3, gw.getScopeId());
        assertEquals(InetAddress.getByName("192.0.2.9"), r.destination(), "no RTA_DST: the requested one");
        assertNull(r.preferredSource());
    }

    @Test
    void neighbour() throws Exception {
        Neighbour n = Neighbour.decode(MsgBuilder.segment(neighbourMessage()));
        assertEquals(new Neighbour(7, InetAddress.getByName("10.77.1.2"), MacAddress.of(MAC), Neighbour.NUD_STALE, 0), n);
        assertTrue(n.isValid() && n.isReachableOrStale());
        assertEquals("STALE", n.stateName());
        assertEquals("NONE", Neighbour.stateName(0));
        assertEquals("REACHABLE|NOARP", Neighbour.stateName(Neighbour.NUD_REACHABLE | Neighbour.NUD_NOARP));
        Neighbour failed = new Neighbour(7, n.address(), null, Neighbour.NUD_FAILED, 0);
        assertTrue(!failed.isValid() && !failed.isReachableOrStale());
    }

    @Test
    void ipv4MappedIpv6StaysIpv6() throws Exception {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        b[12] = 10;
        assertInstanceOf(Inet6Address.class, NlAttrs.toAddress(b, 10, 0, "t"));
        assertInstanceOf(Inet4Address.class, NlAttrs.toAddress(new byte[4], 2, 0, "t"));
        assertThrows(NetlinkProtocolException.class, () -> NlAttrs.toAddress(new byte[5], 2, 0, "t"));
    }

    @Test
    void attributeLengthBeyondMessage() {
        byte[] m = linkMessage();
        // first attribute starts at 32: claim 4000 bytes
        m[32] = (byte) 0xa0;
        m[33] = 0x0f;
        NetlinkProtocolException e = assertThrows(NetlinkProtocolException.class,
                () -> LinkInfo.decode(MsgBuilder.segment(m)));
        assertTrue(e.getMessage().contains("length 4000"), e.getMessage());
    }

    @Test
    void attributeShorterThanHeader() {
        byte[] m = linkMessage();
        m[32] = 2;
        m[33] = 0;
        assertThrows(NetlinkProtocolException.class, () -> LinkInfo.decode(MsgBuilder.segment(m)));
    }

    @Test
    void shortU32AndMissingName() {
        byte[] shortMtu = new MsgBuilder(Rtnl.RTM_NEWLINK, 0, 1).i32(0).i32(1).i32(0).i32(0)
                .attrString(Rtnl.IFLA_IFNAME, "x").attr(Rtnl.IFLA_MTU, new byte[] {1, 2}).build();
        assertThrows(NetlinkProtocolException.class, () -> LinkInfo.decode(MsgBuilder.segment(shortMtu)));
        byte[] noName = new MsgBuilder(Rtnl.RTM_NEWLINK, 0, 1).i32(0).i32(1).i32(0).i32(0).build();
        assertThrows(NetlinkProtocolException.class, () -> LinkInfo.decode(MsgBuilder.segment(noName)));
    }

    @Test
    void truncatedFixedHeaders() {
        for (byte[] m : List.of(linkMessage(), addressMessage(), routeMessage(), neighbourMessage())) {
            MemorySegment s = MsgBuilder.segment(m).asSlice(0, 18);
            int type = NlMsgHdr.type(MsgBuilder.segment(m), 0);
            assertThrows(NetlinkProtocolException.class, () -> decode(type, s));
        }
    }

    /** Random corruption and truncation: every outcome is a value or a NetlinkProtocolException. */
    @Test
    void fuzz() {
        Random rnd = new Random(42);
        List<byte[]> seeds = List.of(linkMessage(), addressMessage(), routeMessage(), neighbourMessage());
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < 50_000; i++) {
            int kind = i % seeds.size();
            byte[] m = seeds.get(kind).clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int at = NlMsgHdr.SIZE + rnd.nextInt(m.length - NlMsgHdr.SIZE);
                m[at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : m[at] ^ (1 << rnd.nextInt(8)));
            }
            int len = rnd.nextInt(4) == 0 ? rnd.nextInt(m.length + 1) : m.length;
            MemorySegment s = MsgBuilder.segment(m).asSlice(0, len);
            try {
                decode(kind, s);
                decoded++;
            } catch (NetlinkProtocolException expected) {
                rejected++;
            } catch (RuntimeException e) {
                fail("corrupted message " + java.util.HexFormat.of().formatHex(m, 0, len) + " crashed the decoder", e);
            }
        }
        assertTrue(decoded > 1000 && rejected > 1000, decoded + " decoded, " + rejected + " rejected");
    }

    private static Object decode(int kind, MemorySegment s) throws NetlinkProtocolException {
        int type = kind < 4 ? new int[] {Rtnl.RTM_NEWLINK, Rtnl.RTM_NEWADDR, Rtnl.RTM_NEWROUTE, Rtnl.RTM_NEWNEIGH}[kind] : kind;
        return switch (type) {
            case Rtnl.RTM_NEWLINK -> LinkInfo.decode(s);
            case Rtnl.RTM_NEWADDR -> AddressInfo.decode(s);
            case Rtnl.RTM_NEWROUTE -> Route.decode(s, null);
            case Rtnl.RTM_NEWNEIGH -> Neighbour.decode(s);
            default -> throw new AssertionError(type);
        };
    }
}
