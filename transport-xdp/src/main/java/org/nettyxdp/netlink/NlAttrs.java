package org.nettyxdp.netlink;

import org.nettyxdp.packet.MacAddress;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.nettyxdp.sys.Linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A parsed run of {@code struct nlattr}/{@code struct rtattr} (4-byte header: u16 length including the
 * header, u16 type; payloads padded to 4 bytes), indexed by type. Every length is checked against the
 * enclosing region when parsing, and every typed read checks the payload size, so a malformed message
 * ends in {@link NetlinkProtocolException}, never in an out-of-bounds access. As in the kernel's
 * {@code nla_parse}, the last occurrence of a type wins and types above {@code maxType} are ignored.
 */
final class NlAttrs {
    static final int HEADER = 4;
    private static final int TYPE_MASK = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

    private final MemorySegment seg;
    private final int[] offset; // payload offset per type, -1 if absent
    private final int[] length; // payload length per type

    private NlAttrs(MemorySegment seg, int maxType) {
        this.seg = seg;
        this.offset = new int[maxType + 1];
        this.length = new int[maxType + 1];
        Arrays.fill(offset, -1);
    }

    /** Parses the attributes in {@code seg[start, end)}. */
    static NlAttrs parse(MemorySegment seg, int start, int end, int maxType) throws NetlinkProtocolException {
        if (start < 0 || end < start || end > seg.byteSize()) {
            throw new NetlinkProtocolException("attribute region [" + start + ", " + end + ") outside message of "
                    + seg.byteSize() + " bytes");
        }
        NlAttrs attrs = new NlAttrs(seg, maxType);
        int pos = start;
        while (end - pos >= HEADER) {
            int len = Short.toUnsignedInt(seg.get(JAVA_SHORT_UNALIGNED, pos));
            int type = Short.toUnsignedInt(seg.get(JAVA_SHORT_UNALIGNED, pos + 2)) & TYPE_MASK;
            if (len < HEADER || len > end - pos) {
                throw new NetlinkProtocolException("attribute type " + type + " at offset " + pos + " has length "
                        + len + " but " + (end - pos) + " bytes remain");
            }
            if (type <= maxType) {
                attrs.offset[type] = pos + HEADER;
                attrs.length[type] = len - HEADER;
            }
            pos += Math.min(Rtnl.align(len), end - pos);
        }
        // Fewer than 4 trailing bytes can only be padding; the kernel tolerates them too.
        return attrs;
    }

    boolean has(int type) {
        return type < offset.length && offset[type] >= 0;
    }

    /** Payload length of {@code type}, or -1 if absent. */
    int length(int type) {
        return has(type) ? length[type] : -1;
    }

    private int need(int type, int size, String what) throws NetlinkProtocolException {
        if (!has(type)) {
            throw new NetlinkProtocolException("missing attribute " + type + " (" + what + ")");
        }
        if (length[type] < size) {
            throw new NetlinkProtocolException("attribute " + type + " (" + what + ") has " + length[type]
                    + " bytes, needs " + size);
        }
        return offset[type];
    }

    int u8(int type, int dflt) throws NetlinkProtocolException {
        return has(type) ? Byte.toUnsignedInt(seg.get(JAVA_BYTE, need(type, 1, "u8"))) : dflt;
    }

    int u32(int type, int dflt) throws NetlinkProtocolException {
        return has(type) ? seg.get(JAVA_INT_UNALIGNED, need(type, 4, "u32")) : dflt;
    }

    /** A NUL-terminated string (the terminator is optional), or {@code null} if absent. */
    String string(int type) {
        if (!has(type)) {
            return null;
        }
        int off = offset[type];
        int n = 0;
        while (n < length[type] && seg.get(JAVA_BYTE, off + n) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        MemorySegment.copy(seg, JAVA_BYTE, off, b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A copy of the payload, or {@code null} if absent. */
    byte[] bytes(int type) {
        if (!has(type)) {
            return null;
        }
        byte[] b = new byte[length[type]];
        MemorySegment.copy(seg, JAVA_BYTE, offset[type], b, 0, b.length);
        return b;
    }

    /** The attributes nested inside {@code type}, or an empty set if absent. */
    NlAttrs nested(int type, int maxType) throws NetlinkProtocolException {
        if (!has(type)) {
            return new NlAttrs(seg, maxType);
        }
        return parse(seg, offset[type], offset[type] + length[type], maxType);
    }

    /** A 6-byte link-layer address, or {@code null} if absent or of another length (e.g. tunnels). */
    MacAddress mac(int type) {
        if (!has(type) || length[type] != 6) {
            return null;
        }
        long bits = 0;
        for (int i = 0; i < 6; i++) {
            bits = (bits << 8) | Byte.toUnsignedInt(seg.get(JAVA_BYTE, offset[type] + i));
        }
        return MacAddress.of(bits);
    }

    /**
     * An IPv4 or IPv6 address of {@code family}, or {@code null} if absent. IPv6 link-local addresses
     * get {@code scopeId} (an ifindex) when it is positive.
     */
    InetAddress address(int type, int family, int scopeId) throws NetlinkProtocolException {
        if (!has(type)) {
            return null;
        }
        return toAddress(bytes(type), family, scopeId, "attribute " + type);
    }

    static InetAddress toAddress(byte[] b, int family, int scopeId, String what) throws NetlinkProtocolException {
        try {
            if (family == Linux.AF_INET && b.length == 4) {
                return InetAddress.getByAddress(b);
            }
            if (family == Linux.AF_INET6 && b.length == 16) {
                // getByAddress(byte[]) would turn ::ffff:a.b.c.d into an Inet4Address; keep what the kernel said.
                boolean linkLocal = (b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80;
                return linkLocal && scopeId > 0
                        ? Inet6Address.getByAddress(null, b, scopeId)
                        : Inet6Address.getByAddress(null, b, null);
            }
        } catch (UnknownHostException e) {
            throw new NetlinkProtocolException(what + ": " + e.getMessage());
        }
        throw new NetlinkProtocolException(what + ": " + b.length + "-byte address for family " + family);
    }

    static int family(InetAddress a) {
        return a instanceof Inet4Address ? Linux.AF_INET : Linux.AF_INET6;
    }
}
