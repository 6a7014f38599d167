package org.nettyxdp.netlink;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One policy-routing rule ({@code ip rule}), as {@code RTM_GETRULE} reports it: which table a lookup
 * consults, for which packets.
 *
 * @param family    {@code AF_INET} or {@code AF_INET6}
 * @param priority  the rule's preference ({@code FRA_PRIORITY}), 0 if absent
 * @param table     the table it looks up ({@code FRA_TABLE}, else the header's)
 * @param action    {@code FR_ACT_*}: {@link #FR_ACT_TO_TBL} looks a table up; others jump, drop, refuse
 * @param flags     {@code FIB_RULE_*} flags ({@code not}, ...)
 * @param selective true when the rule selects by anything but nothing: a source or destination prefix,
 *                  TOS, input or output interface, firewall mark, VRF (l3mdev), uid range, protocol,
 *                  ports or a suppressor
 */
public record FibRule(int family, int priority, int table, int action, int flags, boolean selective) {
    /** Action: look up {@link #table()}. */
    public static final int FR_ACT_TO_TBL = 1;

    // struct fib_rule_hdr { family, dst_len, src_len, tos, table, res1, res2, action; u32 flags }
    static final int HDR_SIZE = 12;
    private static final int FRA_PRIORITY = 6;
    private static final int FRA_TABLE = 15;
    private static final int FRA_MAX = 30;
    /** Who installed the rule (the defaults say {@code kernel}); selects nothing. */
    private static final int FRA_PROTOCOL = 21;
    /** Suppressors, reported as -1 when unset (the defaults). */
    private static final int FRA_SUPPRESS_IFGROUP = 13;
    private static final int FRA_SUPPRESS_PREFIXLEN = 14;
    /** Alignment padding. */
    private static final int FRA_PAD = 18;

    /**
     * True if {@code rules} are exactly the kernel's three defaults of a family: {@code 0: from all
     * lookup local}, {@code 32766: from all lookup main}, {@code 32767: from all lookup default}, so a
     * route lookup consults those tables in that order and nothing else.
     */
    public static boolean defaultsOnly(List<FibRule> rules) {
        if (rules.size() != 3) {
            return false;
        }
        int[][] expected = {{0, Route.TABLE_LOCAL}, {32766, Route.TABLE_MAIN}, {32767, RouteEntry.TABLE_DEFAULT}};
        for (int[] e : expected) {
            boolean found = false;
            for (FibRule r : rules) {
                found |= r.priority == e[0] && r.table == e[1] && r.action == FR_ACT_TO_TBL && r.flags == 0
                        && !r.selective;
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    static FibRule decode(MemorySegment msg) throws NetlinkProtocolException {
        int hdr = NlMsgHdr.SIZE;
        int len = (int) msg.byteSize();
        if (len < hdr + HDR_SIZE) {
            throw new NetlinkProtocolException("rule message of " + len + " bytes is shorter than fib_rule_hdr");
        }
        int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr));
        int dstLen = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + 1));
        int srcLen = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + 2));
        int tos = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + 3));
        int table = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + 4));
        int action = Byte.toUnsignedInt(msg.get(JAVA_BYTE, hdr + 7));
        int flags = msg.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, hdr + 8);
        NlAttrs a = NlAttrs.parse(msg, hdr + HDR_SIZE, len, FRA_MAX);
        boolean selective = dstLen != 0 || srcLen != 0 || tos != 0;
        for (int type = 1; type <= FRA_MAX; type++) {
            boolean unset = (type == FRA_SUPPRESS_IFGROUP || type == FRA_SUPPRESS_PREFIXLEN) && a.u32(type, -1) == -1;
            if (a.has(type) && type != FRA_PRIORITY && type != FRA_TABLE && type != FRA_PROTOCOL
                    && type != FRA_PAD && !unset) {
                selective = true; // FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK, FRA_L3MDEV, FRA_UID_RANGE, FRA_SUPPRESS_*, ...
            }
        }
        return new FibRule(family, a.u32(FRA_PRIORITY, 0), a.u32(FRA_TABLE, table), action, flags, selective);
    }
}
