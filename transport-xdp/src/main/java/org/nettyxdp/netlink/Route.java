package org.nettyxdp.netlink;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * The kernel's forwarding decision for one destination ({@code RTM_GETROUTE} without
 * {@code NLM_F_DUMP}, what {@code ip route get} prints).
 *
 * @param destination     the destination that was looked up
 * @param type            {@link #RTN_UNICAST} for traffic that leaves through {@code oif},
 *                        {@link #RTN_LOCAL} for one of this host's own addresses (then {@code oif} is
 *                        loopback), {@link #RTN_BROADCAST}, {@link #RTN_MULTICAST} ...
 * @param table           the routing table that matched, e.g. {@link #TABLE_MAIN} or {@link #TABLE_LOCAL}
 * @param protocol        the {@code RTPROT_*} that installed the route (2 kernel, 3 boot, 4 static)
 * @param scope           the {@code RT_SCOPE_*} of the route
 * @param oif             the output interface index
 * @param gateway         the next-hop router, or {@code null} if the destination is on-link; from
 *                        {@code RTA_GATEWAY} or {@code RTA_VIA}, so it can be IPv6 for an IPv4 route
 * @param preferredSource the source address the kernel would use, or {@code null}
 * @param mtu             the route/path MTU ({@code RTAX_MTU}), or 0 when the link MTU applies
 * @param flags           the {@code rtm_flags} ({@code RTM_F_*}, {@code RTCF_*} bits)
 */
public record Route(InetAddress destination, int type, int table, int protocol, int scope, int oif,
                    InetAddress gateway, InetAddress preferredSource, int mtu, int flags) {
    public static final int RTN_UNICAST = 1;
    public static final int RTN_LOCAL = 2;
    public static final int RTN_BROADCAST = 3;
    public static final int RTN_ANYCAST = 4;
    public static final int RTN_MULTICAST = 5;
    public static final int RTN_BLACKHOLE = 6;
    public static final int RTN_UNREACHABLE = 7;
    public static final int RTN_PROHIBIT = 8;

    public static final int TABLE_MAIN = 254;
    public static final int TABLE_LOCAL = 255;

    /** True if the destination is an address of this host. */
    public boolean isLocal() {
        return type == RTN_LOCAL;
    }

    /** True for an ordinary route out of {@link #oif()}. */
    public boolean isUnicast() {
        return type == RTN_UNICAST;
    }

    /** The address whose neighbour entry gives the destination MAC: the gateway, else the destination. */
    public InetAddress nextHop() {
        return gateway != null ? gateway : destination;
    }

    static Route decode(MemorySegment msg, InetAddress requested) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + RtMsg.SIZE) {
            throw new NetlinkProtocolException("route message of " + len + " bytes is shorter than rtmsg");
        }
        int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.FAMILY));
        int table = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.TABLE));
        int protocol = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.PROTOCOL));
        int scope = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.SCOPE));
        int type = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.TYPE));
        int flags = msg.get(JAVA_INT_UNALIGNED, hdr + RtMsg.FLAGS);
        NlAttrs a = NlAttrs.parse(msg, hdr + RtMsg.SIZE, len, Rtnl.RTA_MAX);
        int oif = a.u32(Rtnl.RTA_OIF, 0);
        InetAddress dst = a.address(Rtnl.RTA_DST, family, oif);
        InetAddress gateway = a.address(Rtnl.RTA_GATEWAY, family, oif);
        if (gateway == null && a.has(Rtnl.RTA_VIA)) {
            byte[] via = a.bytes(Rtnl.RTA_VIA); // struct rtvia { __kernel_sa_family_t family; __u8 addr[]; }
            if (via.length < 2) {
                throw new NetlinkProtocolException("RTA_VIA of " + via.length + " bytes");
            }
            int viaFamily = (via[0] & 0xff) | (via[1] & 0xff) << 8;
            gateway = NlAttrs.toAddress(java.util.Arrays.copyOfRange(via, 2, via.length), viaFamily, oif, "RTA_VIA");
        }
        InetAddress src = a.address(Rtnl.RTA_PREFSRC, family, oif);
        int mtu = a.nested(Rtnl.RTA_METRICS, Rtnl.RTAX_MTU).u32(Rtnl.RTAX_MTU, 0);
        return new Route(dst != null ? dst : requested, type, a.u32(Rtnl.RTA_TABLE, table), protocol, scope, oif,
                gateway, src, mtu, flags);
    }
}
