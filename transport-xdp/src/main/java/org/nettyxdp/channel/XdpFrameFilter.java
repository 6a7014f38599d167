package org.nettyxdp.channel;

import org.nettyxdp.bpf.FrameMatch;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which frames an {@link XdpRawChannel} takes: built-in matchers, compiled into the interface's XDP
 * program, combined with {@link #and}, {@link #or} and {@link #not}. A frame no raw channel's filter
 * takes goes to the kernel. Immutable.
 *
 * <pre>{@code
 * XdpFrameFilter dns = XdpFrameFilter.udpDestinationPort(53)
 *         .and(XdpFrameFilter.ipv4Destination("10.0.0.0/8"));
 * XdpFrameFilter tagged = XdpFrameFilter.vlan(42).and(XdpFrameFilter.etherType(0x88b5));
 * XdpFrameFilter everything = XdpFrameFilter.all();
 * }</pre>
 *
 * <p>What a matcher sees: the EtherType and VLAN ID after at most one 802.1Q/802.1ad tag; for IPv4
 * the header (any IHL &ge; 5) and, in a datagram's first fragment only, the TCP/UDP ports; for IPv6 the
 * fixed header, and ports only when its next header is TCP or UDP (extension headers are not
 * walked). A frame too short for the header a matcher reads does not match it; only {@link #all()}
 * matches runts.
 */
public final class XdpFrameFilter {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final XdpFrameFilter ALL = new XdpFrameFilter(new FrameMatch.All(), "all");

    private final FrameMatch match;
    private final String text;

    private XdpFrameFilter(FrameMatch match, String text) {
        this.match = match;
        this.text = text;
    }

    FrameMatch match() {
        return match;
    }

    /** Every frame the datagram channels of the interface do not take. */
    public static XdpFrameFilter all() {
        return ALL;
    }

    /** Frames of EtherType {@code type} (e.g. {@code 0x0806} ARP), after at most one VLAN tag. */
    public static XdpFrameFilter etherType(int type) {
        checkRange("EtherType", type, 0, 0xffff);
        return new XdpFrameFilter(new FrameMatch.EtherType(type), String.format("etherType(0x%04x)", type));
    }

    /** Frames with one 802.1Q/802.1ad tag of VLAN ID {@code id}. */
    public static XdpFrameFilter vlan(int id) {
        checkRange("VLAN ID", id, 0, 4095);
        return new XdpFrameFilter(new FrameMatch.Vlan(id), "vlan(" + id + ")");
    }

    /** IPv4 packets of protocol {@code protocol}, IPv6 packets whose fixed header's next header is it. */
    public static XdpFrameFilter ipProtocol(int protocol) {
        checkRange("IP protocol", protocol, 0, 255);
        return new XdpFrameFilter(new FrameMatch.IpProtocol(protocol), "ipProtocol(" + protocol + ")");
    }

    /** IPv4 packets from {@code cidr} ({@code "10.0.0.0/8"}; a bare address is a /32). */
    public static XdpFrameFilter ipv4Source(String cidr) {
        return prefix(true, cidr, Inet4Address.class);
    }

    /** IPv4 packets to {@code cidr}. */
    public static XdpFrameFilter ipv4Destination(String cidr) {
        return prefix(false, cidr, Inet4Address.class);
    }

    /** IPv6 packets from {@code cidr} ({@code "fd00::/64"}; a bare address is a /128). */
    public static XdpFrameFilter ipv6Source(String cidr) {
        return prefix(true, cidr, Inet6Address.class);
    }

    /** IPv6 packets to {@code cidr}. */
    public static XdpFrameFilter ipv6Destination(String cidr) {
        return prefix(false, cidr, Inet6Address.class);
    }

    /** Packets from {@code address}/{@code prefixLength}, of the address's family. */
    public static XdpFrameFilter ipSource(InetAddress address, int prefixLength) {
        return prefix(true, address, prefixLength);
    }

    /** Packets to {@code address}/{@code prefixLength}, of the address's family. */
    public static XdpFrameFilter ipDestination(InetAddress address, int prefixLength) {
        return prefix(false, address, prefixLength);
    }

    /** TCP segments to {@code port}. */
    public static XdpFrameFilter tcpDestinationPort(int port) {
        return port(TCP, false, port, port);
    }

    /** TCP segments to a port in {@code [low, high]}. */
    public static XdpFrameFilter tcpDestinationPorts(int low, int high) {
        return port(TCP, false, low, high);
    }

    /** TCP segments from {@code port}. */
    public static XdpFrameFilter tcpSourcePort(int port) {
        return port(TCP, true, port, port);
    }

    /** TCP segments from a port in {@code [low, high]}. */
    public static XdpFrameFilter tcpSourcePorts(int low, int high) {
        return port(TCP, true, low, high);
    }

    /** UDP datagrams to {@code port}. */
    public static XdpFrameFilter udpDestinationPort(int port) {
        return port(UDP, false, port, port);
    }

    /** UDP datagrams to a port in {@code [low, high]}. */
    public static XdpFrameFilter udpDestinationPorts(int low, int high) {
        return port(UDP, false, low, high);
    }

    /** UDP datagrams from {@code port}. */
    public static XdpFrameFilter udpSourcePort(int port) {
        return port(UDP, true, port, port);
    }

    /** UDP datagrams from a port in {@code [low, high]}. */
    public static XdpFrameFilter udpSourcePorts(int low, int high) {
        return port(UDP, true, low, high);
    }

    /** Frames every one of {@code filters} matches ({@link #all()} for none). */
    public static XdpFrameFilter and(XdpFrameFilter... filters) {
        return combine(true, filters);
    }

    /** Frames at least one of {@code filters} matches (no frame for none). */
    public static XdpFrameFilter or(XdpFrameFilter... filters) {
        return combine(false, filters);
    }

    /** Frames {@code filter} does not match. */
    public static XdpFrameFilter not(XdpFrameFilter filter) {
        Objects.requireNonNull(filter, "filter");
        return new XdpFrameFilter(new FrameMatch.Not(filter.match), "not(" + filter.text + ')');
    }

    /** {@code and(this, other)}. */
    public XdpFrameFilter and(XdpFrameFilter other) {
        return and(this, other);
    }

    /** {@code or(this, other)}. */
    public XdpFrameFilter or(XdpFrameFilter other) {
        return or(this, other);
    }

    private static XdpFrameFilter combine(boolean and, XdpFrameFilter[] filters) {
        List<FrameMatch> parts = new ArrayList<>(filters.length);
        StringBuilder sb = new StringBuilder(and ? "and(" : "or(");
        for (int i = 0; i < filters.length; i++) {
            XdpFrameFilter f = Objects.requireNonNull(filters[i], "filter");
            parts.add(f.match);
            sb.append(i == 0 ? "" : ", ").append(f.text);
        }
        FrameMatch m = and ? new FrameMatch.And(parts) : new FrameMatch.Or(parts);
        return new XdpFrameFilter(m, sb.append(')').toString());
    }

    private static XdpFrameFilter prefix(boolean source, String cidr, Class<? extends InetAddress> family) {
        Objects.requireNonNull(cidr, "cidr");
        int slash = cidr.indexOf('/');
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(slash < 0 ? cidr : cidr.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an address literal or prefix: " + cidr, e);
        }
        if (!family.isInstance(address)) {
            throw new IllegalArgumentException(cidr + " is not an " + (family == Inet4Address.class ? "IPv4" : "IPv6")
                    + " prefix");
        }
        int length;
        try {
            length = slash < 0 ? address.getAddress().length * 8 : Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad prefix length in " + cidr, e);
        }
        return prefix(source, address, length);
    }

    private static XdpFrameFilter prefix(boolean source, InetAddress address, int prefixLength) {
        Objects.requireNonNull(address, "address");
        byte[] bytes = address.getAddress();
        checkRange("prefix length", prefixLength, 0, bytes.length * 8);
        String what = (bytes.length == 4 ? "ipv4" : "ipv6") + (source ? "Source(" : "Destination(");
        return new XdpFrameFilter(new FrameMatch.IpPrefix(source, bytes, prefixLength),
                what + address.getHostAddress() + '/' + prefixLength + ')');
    }

    private static XdpFrameFilter port(int protocol, boolean source, int low, int high) {
        checkRange("port", low, 0, 0xffff);
        checkRange("port", high, low, 0xffff);
        String what = (protocol == TCP ? "tcp" : "udp") + (source ? "SourcePort" : "DestinationPort");
        return new XdpFrameFilter(new FrameMatch.Port(protocol, source, low, high),
                what + (low == high ? "(" + low + ')' : "s(" + low + ", " + high + ')'));
    }

    private static void checkRange(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " " + value + " outside [" + min + ", " + max + "]");
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
