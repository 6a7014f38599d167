package org.nettyxdp.netlink;

/**
 * Netlink and rtnetlink protocol numbers ({@code linux/netlink.h}, {@code linux/rtnetlink.h},
 * {@code linux/if_link.h}, {@code linux/if_addr.h}, {@code linux/neighbour.h}). The constants users
 * of the records need (flags, states, types) live on the records themselves.
 */
final class Rtnl {
    static final int NETLINK_ROUTE = 0;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_CAP_ACK = 10;
    static final int NETLINK_EXT_ACK = 11;
    static final int NETLINK_GET_STRICT_CHK = 12;
    static final int SO_RCVTIMEO = 20;

    static final int NLMSG_NOOP = 1;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLMSG_OVERRUN = 4;

    static final int NLM_F_REQUEST = 0x01;
    static final int NLM_F_MULTI = 0x02;
    static final int NLM_F_ACK = 0x04;
    static final int NLM_F_DUMP_INTR = 0x10;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_CAPPED = 0x100;
    static final int NLM_F_ACK_TLVS = 0x200;

    static final int NLMSGERR_ATTR_MSG = 1;
    static final int NLMSGERR_ATTR_OFFS = 2;

    static final int RTM_NEWLINK = 16;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_GETADDR = 22;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_GETROUTE = 26;
    static final int RTM_NEWNEIGH = 28;
    static final int RTM_GETNEIGH = 30;
    static final int RTM_NEWRULE = 32;
    static final int RTM_DELRULE = 33;
    static final int RTM_GETRULE = 34;

    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_MTU = 4;
    static final int IFLA_OPERSTATE = 16;
    static final int IFLA_LINKINFO = 18;
    static final int IFLA_EXT_MASK = 29;
    static final int IFLA_NUM_TX_QUEUES = 31;
    static final int IFLA_NUM_RX_QUEUES = 32;
    static final int IFLA_XDP = 43;
    static final int IFLA_MAX = 43;
    static final int IFLA_INFO_KIND = 1;
    static final int IFLA_XDP_ATTACHED = 2;
    static final int IFLA_XDP_PROG_ID = 4;
    static final int IFLA_XDP_DRV_PROG_ID = 5;
    static final int IFLA_XDP_SKB_PROG_ID = 6;
    static final int IFLA_XDP_HW_PROG_ID = 7;
    static final int RTEXT_FILTER_SKIP_STATS = 1 << 3;

    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_FLAGS = 8;
    static final int IFA_MAX = 8;

    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PREFSRC = 7;
    static final int RTA_METRICS = 8;
    static final int RTA_TABLE = 15;
    static final int RTA_VIA = 18;
    static final int RTA_MAX = 18;
    static final int RTAX_MTU = 2;
    static final int RTM_F_LOOKUP_TABLE = 0x1000;

    static final int NDA_DST = 1;
    static final int NDA_LLADDR = 2;
    static final int NDA_IFINDEX = 8;
    static final int NDA_MAX = 8;

    private Rtnl() {
    }

    static int align(int len) {
        return (len + 3) & ~3;
    }

    static String typeName(int type) {
        return switch (type) {
            case RTM_GETLINK -> "RTM_GETLINK";
            case RTM_GETADDR -> "RTM_GETADDR";
            case RTM_GETROUTE -> "RTM_GETROUTE";
            case RTM_GETNEIGH -> "RTM_GETNEIGH";
            case RTM_NEWLINK -> "RTM_NEWLINK";
            case RTM_NEWADDR -> "RTM_NEWADDR";
            case RTM_NEWROUTE -> "RTM_NEWROUTE";
            case RTM_NEWNEIGH -> "RTM_NEWNEIGH";
            case RTM_GETRULE -> "RTM_GETRULE";
            case RTM_NEWRULE -> "RTM_NEWRULE";
            default -> "netlink message type " + type;
        };
    }
}
