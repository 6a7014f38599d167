package org.nettyxdp.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
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
 * {@code struct sockaddr_in} (16 bytes) and {@code struct sockaddr_in6} (28 bytes) of
 * {@code linux/in.h} and {@code linux/in6.h}: encoding and decoding of {@link InetSocketAddress}es.
 * Both consist of fixed-width fields, so they are laid out alike on every {@link Arch}.
 */
public final class SockAddr {
    private static final ValueLayout.OfShort PORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /** {@code struct sockaddr_in}. */
    public static final StructLayout IN_LAYOUT = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sin_family"),
            PORT.withName("sin_port"),
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("sin_addr"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("sin_zero"));
    /** {@code struct sockaddr_in6}. */
    public static final StructLayout IN6_LAYOUT = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sin6_family"),
            PORT.withName("sin6_port"),
            JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN).withName("sin6_flowinfo"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("sin6_addr"),
            JAVA_INT.withName("sin6_scope_id"));
    /** Size of {@code struct sockaddr_in}. */
    public static final int IN_SIZE = (int) IN_LAYOUT.byteSize();
    /** Size of {@code struct sockaddr_in6}. */
    public static final int IN6_SIZE = (int) IN6_LAYOUT.byteSize();
    /** Size of {@code struct sockaddr_storage}: large enough for either. */
    public static final int STORAGE_SIZE = 128;

    /** {@code sin_family} and {@code sin6_family} share offset 0, so a reader can tell them apart. */
    private static final long FAMILY = offset(IN_LAYOUT, "sin_family");
    private static final long IN_PORT = offset(IN_LAYOUT, "sin_port");
    private static final long IN_ADDR = offset(IN_LAYOUT, "sin_addr");
    private static final long IN6_PORT = offset(IN6_LAYOUT, "sin6_port");
    private static final long IN6_ADDR = offset(IN6_LAYOUT, "sin6_addr");
    private static final long IN6_SCOPE_ID = offset(IN6_LAYOUT, "sin6_scope_id");

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
            dst.set(JAVA_SHORT, FAMILY, (short) Linux.AF_INET);
            dst.set(PORT, IN_PORT, (short) address.getPort());
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, IN_ADDR, 4);
            return IN_SIZE;
        }
        dst.asSlice(0, IN6_SIZE).fill((byte) 0);
        dst.set(JAVA_SHORT, FAMILY, (short) Linux.AF_INET6);
        dst.set(PORT, IN6_PORT, (short) address.getPort());
        if (bytes.length == 4) {
            // IPv4-mapped: ::ffff:a.b.c.d
            dst.set(JAVA_BYTE, IN6_ADDR + 10, (byte) 0xff);
            dst.set(JAVA_BYTE, IN6_ADDR + 11, (byte) 0xff);
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, IN6_ADDR + 12, 4);
        } else {
            MemorySegment.copy(bytes, 0, dst, JAVA_BYTE, IN6_ADDR, 16);
            if (ip instanceof Inet6Address v6 && v6.getScopeId() != 0) {
                dst.set(JAVA_INT, IN6_SCOPE_ID, v6.getScopeId());
            }
        }
        return IN6_SIZE;
    }

    /** Reads a {@code sockaddr_in} or {@code sockaddr_in6}; IPv4-mapped IPv6 addresses stay IPv6. */
    public static InetSocketAddress read(MemorySegment src) {
        int family = src.get(JAVA_SHORT, FAMILY);
        try {
            if (family == Linux.AF_INET) {
                int port = Short.toUnsignedInt(src.get(PORT, IN_PORT));
                byte[] a = new byte[4];
                MemorySegment.copy(src, JAVA_BYTE, IN_ADDR, a, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(a), port);
            }
            if (family == Linux.AF_INET6) {
                int port = Short.toUnsignedInt(src.get(PORT, IN6_PORT));
                byte[] a = new byte[16];
                MemorySegment.copy(src, JAVA_BYTE, IN6_ADDR, a, 0, 16);
                int scope = src.get(JAVA_INT, IN6_SCOPE_ID);
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

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /** True if {@code ip} is IPv4. */
    public static boolean isIpv4(InetAddress ip) {
        return ip instanceof Inet4Address;
    }
}
