package org.nettyxdp.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * {@code struct sockaddr_in} (16 bytes) and {@code struct sockaddr_in6} (28 bytes): encoding and
 * decoding of {@link InetSocketAddress}es.
 */
public final class SockAddr {
    /** Size of {@code struct sockaddr_in}. */
    public static final int IN_SIZE = 16;
    /** Size of {@code struct sockaddr_in6}. */
    public static final int IN6_SIZE = 28;
    /** Size of {@code struct sockaddr_storage}: large enough for either. */
    public static final int STORAGE_SIZE = 128;

    private static final ValueLayout.OfShort PORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    private SockAddr() {
    }

    /**
     * Writes {@code address} into {@code dst} as {@code sockaddr_in6} when {@code ipv6} is set (an IPv4
     * address becomes IPv4-mapped), otherwise as {@code sockaddr_in}; returns the length written.
     */
    public static int write(MemorySegment dst, InetSocketAddress address, boolean ipv6) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
        byte[] bytes = ip.getAddress();
        if (!ipv6) {
            if (bytes.length != 4) {
                throw new IllegalArgumentException("not an IPv4 address: " + ip);
            }
            dst.asSlice(0, IN_SIZE).fill((byte) 0);
            dst.set(JAVA_SHORT, 0, (short) Linux.AF_INET);
            dst.set(PORT, 2, (short) address.getPort());
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, 4, 4);
            return IN_SIZE;
        }
        dst.asSlice(0, IN6_SIZE).fill((byte) 0);
        dst.set(JAVA_SHORT, 0, (short) Linux.AF_INET6);
        dst.set(PORT, 2, (short) address.getPort());
        if (bytes.length == 4) {
            dst.set(JAVA_BYTE, 18, (byte) 0xff);
            dst.set(JAVA_BYTE, 19, (byte) 0xff);
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, 20, 4);
        } else {
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, 8, 16);
            if (ip instanceof Inet6Address v6 && v6.getScopeId() != 0) {
                dst.set(JAVA_INT, 24, v6.getScopeId());
            }
        }
        return IN6_SIZE;
    }

    /** Reads a {@code sockaddr_in} or {@code sockaddr_in6}; IPv4-mapped IPv6 addresses stay IPv6. */
    public static InetSocketAddress read(MemorySegment src) {
        int family = src.get(JAVA_SHORT, 0);
        int port = Short.toUnsignedInt(src.get(PORT, 2));
        try {
            if (family == Linux.AF_INET) {
                byte[] a = new byte[4];
                MemorySegment.copy(src, JAVA_BYTE, 4, a, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(a), port);
            }
            if (family == Linux.AF_INET6) {
                byte[] a = new byte[16];
                MemorySegment.copy(src, JAVA_BYTE, 8, a, 0, 16);
                int scope = src.get(JAVA_INT, 24);
                InetAddress ip = scope != 0
                        ? Inet6Address.getByAddress(null, a, scope)
                        : InetAddress.getByAddress(a);
                return new InetSocketAddress(ip, port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalArgumentException("unsupported address family " + family);
    }

    /** True if {@code ip} is IPv4. */
    public static boolean isIpv4(InetAddress ip) {
        return ip instanceof Inet4Address;
    }
}
