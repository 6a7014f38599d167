package org.nettyxdp.netlink;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * An IPv4 or IPv6 address configured on an interface, as {@code RTM_GETADDR} reports it (what
 * {@code ip addr} prints). IPv6 link-local addresses carry the interface index as their scope id.
 *
 * @param ifindex      the interface the address is configured on
 * @param address      the local address ({@code IFA_LOCAL}, else {@code IFA_ADDRESS})
 * @param prefixLength the prefix length, e.g. 24
 * @param scope        {@link #SCOPE_UNIVERSE}, {@link #SCOPE_LINK}, {@link #SCOPE_HOST} ...
 * @param flags        {@code IFA_F_*} flags ({@link #IFA_F_TENTATIVE}, {@link #IFA_F_NODAD} ...)
 */
public record AddressInfo(int ifindex, InetAddress address, int prefixLength, int scope, int flags) {
    public static final int SCOPE_UNIVERSE = 0;
    public static final int SCOPE_SITE = 200;
    public static final int SCOPE_LINK = 253;
    public static final int SCOPE_HOST = 254;

    public static final int IFA_F_SECONDARY = 0x01;
    public static final int IFA_F_NODAD = 0x02;
    public static final int IFA_F_DADFAILED = 0x08;
    public static final int IFA_F_DEPRECATED = 0x20;
    public static final int IFA_F_TENTATIVE = 0x40;
    public static final int IFA_F_PERMANENT = 0x80;

    /** True while IPv6 duplicate address detection runs: the address cannot be bound yet. */
    public boolean isTentative() {
        return (flags & IFA_F_TENTATIVE) != 0;
    }

    static AddressInfo decode(MemorySegment msg) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + IfAddrMsg.SIZE) {
            throw new NetlinkProtocolException("address message of " + len + " bytes is shorter than ifaddrmsg");
        }
        int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + IfAddrMsg.FAMILY));
        int prefix = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + IfAddrMsg.PREFIXLEN));
        int flags8 = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + IfAddrMsg.FLAGS));
        int scope = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + IfAddrMsg.SCOPE));
        int index = msg.get(JAVA_INT_UNALIGNED, hdr + IfAddrMsg.INDEX);
        NlAttrs a = NlAttrs.parse(msg, hdr + IfAddrMsg.SIZE, len, Rtnl.IFA_MAX);
        int attr = a.has(Rtnl.IFA_LOCAL) ? Rtnl.IFA_LOCAL : Rtnl.IFA_ADDRESS;
        InetAddress address = a.address(attr, family, index);
        if (address == null) {
            throw new NetlinkProtocolException("address message for ifindex " + index + " has no address");
        }
        return new AddressInfo(index, address, prefix, scope, a.u32(Rtnl.IFA_FLAGS, flags8));
    }
}
