package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.StringJoiner;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * An ARP (IPv4) or NDP (IPv6) neighbour-table entry, as {@code RTM_GETNEIGH} reports it (what
 * {@code ip neigh} prints). The TX path takes the destination MAC from here.
 *
 * @param ifindex the interface the entry belongs to
 * @param address the neighbour's IP address
 * @param mac     its link-layer address, or {@code null} while unresolved ({@code INCOMPLETE},
 *                {@code FAILED}) or if not 6 bytes long
 * @param state   {@code NUD_*} state bits ({@link #NUD_REACHABLE}, {@link #NUD_STALE} ...)
 * @param flags   {@code NTF_*} flags (router, proxy, ...)
 */
public record Neighbour(int ifindex, InetAddress address, MacAddress mac, int state, int flags) {
    public static final int NUD_NONE = 0x00;
    public static final int NUD_INCOMPLETE = 0x01;
    public static final int NUD_REACHABLE = 0x02;
    public static final int NUD_STALE = 0x04;
    public static final int NUD_DELAY = 0x08;
    public static final int NUD_PROBE = 0x10;
    public static final int NUD_FAILED = 0x20;
    public static final int NUD_NOARP = 0x40;
    public static final int NUD_PERMANENT = 0x80;
    /** The kernel's {@code NUD_VALID}: states in which the entry's MAC is used for sending. */
    public static final int NUD_VALID =
            NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

    /** True if the kernel itself would send with this entry's MAC ({@link #NUD_VALID}) and there is one. */
    public boolean isValid() {
        return (state & NUD_VALID) != 0 && mac != null;
    }

    /** True if confirmed recently ({@code REACHABLE}) or known but unconfirmed ({@code STALE}). */
    public boolean isReachableOrStale() {
        return (state & (NUD_REACHABLE | NUD_STALE)) != 0;
    }

    /** The state as {@code ip neigh} prints it, e.g. {@code "REACHABLE"} or {@code "NOARP"}. */
    public String stateName() {
        return stateName(state);
    }

    /** {@code NUD_*} bits as names joined by {@code '|'}; {@code "NONE"} for 0. */
    public static String stateName(int state) {
        if (state == 0) {
            return "NONE";
        }
        String[] names = {"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"};
        StringJoiner j = new StringJoiner("|");
        for (int i = 0; i < names.length; i++) {
            if ((state & (1 << i)) != 0) {
                j.add(names[i]);
            }
        }
        if ((state & ~0xff) != 0) {
            j.add("0x" + Integer.toHexString(state & ~0xff));
        }
        return j.toString();
    }

    static Neighbour decode(MemorySegment msg) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + NdMsg.SIZE) {
            throw new NetlinkProtocolException("neighbour message of " + len + " bytes is shorter than ndmsg");
        }
        int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + NdMsg.FAMILY));
        int ifindex = msg.get(JAVA_INT_UNALIGNED, hdr + NdMsg.IFINDEX);
        int state = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, hdr + NdMsg.STATE));
        int flags = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + NdMsg.FLAGS));
        NlAttrs a = NlAttrs.parse(msg, hdr + NdMsg.SIZE, len, Rtnl.NDA_MAX);
        InetAddress dst = a.address(Rtnl.NDA_DST, family, ifindex);
        if (dst == null) {
            throw new NetlinkProtocolException("neighbour message for ifindex " + ifindex + " has no NDA_DST");
        }
        return new Neighbour(ifindex, dst, a.mac(Rtnl.NDA_LLADDR), state, flags);
    }
}
