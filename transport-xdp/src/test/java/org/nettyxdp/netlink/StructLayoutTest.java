package org.nettyxdp.netlink;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The kernel ABI sizes and offsets (uapi headers) of the structs this package reads and writes. */
class StructLayoutTest {
    @Test
    void sizes() {
        assertEquals(16, NlMsgHdr.SIZE, "nlmsghdr");
        assertEquals(16, IfInfoMsg.SIZE, "ifinfomsg");
        assertEquals(8, IfAddrMsg.SIZE, "ifaddrmsg");
        assertEquals(12, RtMsg.SIZE, "rtmsg");
        assertEquals(12, NdMsg.SIZE, "ndmsg");
        assertEquals(4, NlAttrs.HEADER, "nlattr");
    }

    @Test
    void offsets() {
        assertEquals(0, NlMsgHdr.LEN);
        assertEquals(4, NlMsgHdr.TYPE);
        assertEquals(6, NlMsgHdr.FLAGS);
        assertEquals(8, NlMsgHdr.SEQ);
        assertEquals(12, NlMsgHdr.PID);
        assertEquals(2, IfInfoMsg.TYPE);
        assertEquals(4, IfInfoMsg.INDEX);
        assertEquals(8, IfInfoMsg.FLAGS);
        assertEquals(1, IfAddrMsg.PREFIXLEN);
        assertEquals(3, IfAddrMsg.SCOPE);
        assertEquals(4, IfAddrMsg.INDEX);
        assertEquals(1, RtMsg.DST_LEN);
        assertEquals(4, RtMsg.TABLE);
        assertEquals(7, RtMsg.TYPE);
        assertEquals(8, RtMsg.FLAGS);
        assertEquals(4, NdMsg.IFINDEX);
        assertEquals(8, NdMsg.STATE);
        assertEquals(10, NdMsg.FLAGS);
        assertEquals(11, NdMsg.TYPE);
    }

    @Test
    void alignment() {
        assertEquals(0, Rtnl.align(0));
        assertEquals(4, Rtnl.align(1));
        assertEquals(8, Rtnl.align(5));
        assertEquals(8, Rtnl.align(8));
    }
}
