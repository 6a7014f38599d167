package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A network interface as {@code RTM_GETLINK} reports it (what {@code ip -d link show} prints).
 *
 * @param index        the interface index
 * @param name         the interface name, e.g. {@code "eth0"}
 * @param kind         the driver kind from {@code IFLA_LINKINFO}, e.g. {@code "veth"}; {@code null} for
 *                     plain devices such as physical NICs and loopback
 * @param hardwareType the {@code ARPHRD_*} type: {@link #ARPHRD_ETHER}, {@link #ARPHRD_LOOPBACK}, ...
 * @param flags        the {@code IFF_*} flags ({@link #IFF_UP}, {@link #IFF_LOOPBACK}, ...)
 * @param mtu          the MTU in bytes (L3 payload, Ethernet header excluded)
 * @param mac          the 6-byte hardware address, or {@code null} if the link has none or another length
 * @param numRxQueues  RX queue count ({@code IFLA_NUM_RX_QUEUES}); one AF_XDP socket per queue
 * @param numTxQueues  TX queue count ({@code IFLA_NUM_TX_QUEUES})
 * @param operState    RFC 2863 operational state, {@code IF_OPER_*} ({@link #OPER_UP} ...)
 * @param xdp          attached XDP programs, {@link XdpAttachment#DETACHED} if none
 */
public record LinkInfo(int index, String name, String kind, int hardwareType, int flags, int mtu,
                       MacAddress mac, int numRxQueues, int numTxQueues, int operState, XdpAttachment xdp) {
    public static final int IFF_UP = 0x1;
    public static final int IFF_BROADCAST = 0x2;
    public static final int IFF_LOOPBACK = 0x8;
    public static final int IFF_POINTOPOINT = 0x10;
    public static final int IFF_RUNNING = 0x40;
    public static final int IFF_NOARP = 0x80;
    public static final int IFF_PROMISC = 0x100;
    public static final int IFF_MULTICAST = 0x1000;
    public static final int IFF_LOWER_UP = 0x10000;

    public static final int ARPHRD_ETHER = 1;
    public static final int ARPHRD_LOOPBACK = 772;
    public static final int ARPHRD_NONE = 0xfffe;

    public static final int OPER_UNKNOWN = 0;
    public static final int OPER_DOWN = 2;
    public static final int OPER_LOWERLAYERDOWN = 3;
    public static final int OPER_UP = 6;

    /** True if administratively up ({@code IFF_UP}). */
    public boolean isUp() {
        return (flags & IFF_UP) != 0;
    }

    /** True if up with carrier ({@code IFF_RUNNING}): frames can flow. */
    public boolean isRunning() {
        return (flags & IFF_RUNNING) != 0;
    }

    /** True for a loopback device. */
    public boolean isLoopback() {
        return (flags & IFF_LOOPBACK) != 0;
    }

    /** True for an Ethernet-framed device with a 6-byte MAC: what the XDP data path can serve. */
    public boolean isEthernet() {
        return hardwareType == ARPHRD_ETHER && mac != null;
    }

    static LinkInfo decode(MemorySegment msg) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + IfInfoMsg.SIZE) {
            throw new NetlinkProtocolException("link message of " + len + " bytes is shorter than ifinfomsg");
        }
        int type = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, hdr + IfInfoMsg.TYPE));
        int index = msg.get(JAVA_INT_UNALIGNED, hdr + IfInfoMsg.INDEX);
        int flags = msg.get(JAVA_INT_UNALIGNED, hdr + IfInfoMsg.FLAGS);
        NlAttrs a = NlAttrs.parse(msg, hdr + IfInfoMsg.SIZE, len, Rtnl.IFLA_MAX);
        String name = a.string(Rtnl.IFLA_IFNAME);
        if (name == null) {
            throw new NetlinkProtocolException("link " + index + " has no IFLA_IFNAME");
        }
        String kind = a.nested(Rtnl.IFLA_LINKINFO, Rtnl.IFLA_INFO_KIND).string(Rtnl.IFLA_INFO_KIND);
        return new LinkInfo(index, name, kind, type, flags, a.u32(Rtnl.IFLA_MTU, 0), a.mac(Rtnl.IFLA_ADDRESS),
                a.u32(Rtnl.IFLA_NUM_RX_QUEUES, 1), a.u32(Rtnl.IFLA_NUM_TX_QUEUES, 1),
                a.u8(Rtnl.IFLA_OPERSTATE, OPER_UNKNOWN),
                XdpAttachment.decode(a.nested(Rtnl.IFLA_XDP, Rtnl.IFLA_XDP_HW_PROG_ID)));
    }
}
