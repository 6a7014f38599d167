package org.nettyxdp.packet;

/**
 * IANA protocol numbers, as found in {@link Ipv4Hdr#protocol()} and {@link Ipv6Hdr#nextHeader()};
 * only the ones a UDP transport meets.
 */
public final class IpProto {

    /** IPv6 hop-by-hop options extension header. */
    public static final int HOPOPT = 0;
    /** Internet Control Message Protocol. */
    public static final int ICMP = 1;
    /** Internet Group Management Protocol. */
    public static final int IGMP = 2;
    /** IPv4-in-IP encapsulation. */
    public static final int IPV4 = 4;
    /** Transmission Control Protocol. */
    public static final int TCP = 6;
    /** User Datagram Protocol. */
    public static final int UDP = 17;
    /** IPv6-in-IP encapsulation. */
    public static final int IPV6 = 41;
    /** IPv6 routing extension header. */
    public static final int IPV6_ROUTE = 43;
    /** IPv6 fragment extension header. */
    public static final int IPV6_FRAG = 44;
    /** Generic Routing Encapsulation. */
    public static final int GRE = 47;
    /** Encapsulating Security Payload. */
    public static final int ESP = 50;
    /** Authentication Header. */
    public static final int AH = 51;
    /** ICMP for IPv6. */
    public static final int ICMPV6 = 58;
    /** IPv6 "no next header". */
    public static final int IPV6_NONXT = 59;
    /** IPv6 destination options extension header. */
    public static final int IPV6_OPTS = 60;
    /** Stream Control Transmission Protocol. */
    public static final int SCTP = 132;
    /** Lightweight UDP. */
    public static final int UDPLITE = 136;

    private IpProto() {
    }
}
