package org.nettyxdp.netlink;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * One entry of a routing table as a route dump or an {@code RTM_NEWROUTE}/{@code RTM_DELROUTE}
 * notification reports it (a line of {@code ip route show table all}), as opposed to {@link Route},
 * the kernel's decision for one destination.
 *
 * @param family        {@code AF_INET} or {@code AF_INET6}
 * @param table         the table ({@link Route#TABLE_MAIN}, {@link Route#TABLE_LOCAL}, 253 default ...)
 * @param destination   the prefix's address ({@code 0.0.0.0} for a default route)
 * @param prefixLength  the prefix length, 0 to 32 (128)
 * @param sourceLength  the length of a source prefix (source-specific IPv6 routes), else 0
 * @param tos           the TOS the route is limited to, else 0
 * @param type          {@link Route#RTN_UNICAST}, {@link Route#RTN_LOCAL}, {@link Route#RTN_BLACKHOLE} ...
 * @param scope         the {@code RT_SCOPE_*}
 * @param flags         the {@code rtm_flags} ({@link #RTNH_F_DEAD}, {@link #RTNH_F_LINKDOWN} ...)
 * @param priority      the metric ({@code RTA_PRIORITY}), 0 if absent
 * @param oif           the output interface, 0 if the route has none (multipath, blackhole ...)
 * @param gateway       the next-hop router of an IPv4/IPv6 gateway, {@code null} for an on-link route
 * @param preferredSource the {@code src} of the route, or {@code null}
 * @param simple        false when the route's next hop is more than one interface and gateway: several
 *                      next hops ({@code RTA_MULTIPATH}), a next-hop object ({@code RTA_NH_ID}), a
 *                      gateway of another family ({@code RTA_VIA}) or an encapsulation ({@code RTA_ENCAP})
 */
public record RouteEntry(int family, int table, InetAddress destination, int prefixLength, int sourceLength,
                         int tos, int type, int scope, int flags, int priority, int oif, InetAddress gateway,
                         InetAddress preferredSource, boolean simple) {
    /** The next hop is dead (its interface went away). */
    public static final int RTNH_F_DEAD = 1;
    /** The next hop's interface has no carrier. */
    public static final int RTNH_F_LINKDOWN = 16;
    /** The routing table named {@code default}, looked up by the last default rule. */
    public static final int TABLE_DEFAULT = 253;

    private static final int RTA_PRIORITY = 6;
    private static final int RTA_MULTIPATH = 9;
    private static final int RTA_ENCAP = 22;
    private static final int RTA_NH_ID = 30;
    private static final int MAX_ATTR = 30;

    static RouteEntry decode(MemorySegment msg) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + RtMsg.SIZE) {
            throw new NetlinkProtocolException("route message of " + len + " bytes is shorter than rtmsg");
        }
        int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.FAMILY));
        int dstLen = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.DST_LEN));
        int srcLen = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.DST_LEN + 1));
        int tos = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.DST_LEN + 2));
        int table = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.TABLE));
        int scope = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.SCOPE));
        int type = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + RtMsg.TYPE));
        int flags = msg.get(JAVA_INT_UNALIGNED, hdr + RtMsg.FLAGS);
        NlAttrs a = NlAttrs.parse(msg, hdr + RtMsg.SIZE, len, MAX_ATTR);
        int oif = a.u32(Rtnl.RTA_OIF, 0);
        InetAddress dst = a.address(Rtnl.RTA_DST, family, oif);
        int bytes = family == org.nettyxdp.sys.Linux.AF_INET ? 4 : 16;
        if (dst == null) {
            dst = NlAttrs.toAddress(new byte[bytes], family, 0, "default route");
        }
        if (dstLen > bytes * 8) {
            throw new NetlinkProtocolException("route prefix length " + dstLen + " for family " + family);
        }
        boolean simple = !a.has(RTA_MULTIPATH) && !a.has(RTA_NH_ID) && !a.has(Rtnl.RTA_VIA) && !a.has(RTA_ENCAP);
        return new RouteEntry(family, a.u32(Rtnl.RTA_TABLE, table), dst, dstLen, srcLen, tos, type, scope, flags,
                a.u32(RTA_PRIORITY, 0), oif, a.address(Rtnl.RTA_GATEWAY, family, oif),
                a.address(Rtnl.RTA_PREFSRC, family, oif), simple);
    }
}
