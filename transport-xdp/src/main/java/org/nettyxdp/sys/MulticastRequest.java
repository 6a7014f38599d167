package org.nettyxdp.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The multicast option arguments: {@code struct ip_mreqn} ({@code linux/in.h}: for
 * {@code IP_ADD_MEMBERSHIP}, {@code IP_DROP_MEMBERSHIP} and {@code IP_MULTICAST_IF}) and
 * {@code struct ipv6_mreq} ({@code linux/in6.h}: for {@code IPV6_ADD_MEMBERSHIP} and
 * {@code IPV6_DROP_MEMBERSHIP}). Addresses and {@code int}s only, so alike on every {@link Arch}.
 */
public final class MulticastRequest {
    /** {@code struct ip_mreqn}. */
    public static final StructLayout IP_MREQN = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("imr_multiaddr"),
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("imr_address"),
            JAVA_INT.withName("imr_ifindex"));
    /** {@code struct ipv6_mreq}. */
    public static final StructLayout IPV6_MREQ = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ipv6mr_multiaddr"),
            JAVA_INT.withName("ipv6mr_ifindex"));

    private static final long IMR_MULTIADDR = offset(IP_MREQN, "imr_multiaddr");
    private static final long IMR_ADDRESS = offset(IP_MREQN, "imr_address");
    private static final long IMR_IFINDEX = offset(IP_MREQN, "imr_ifindex");
    private static final long IPV6MR_MULTIADDR = offset(IPV6_MREQ, "ipv6mr_multiaddr");
    private static final long IPV6MR_IFINDEX = offset(IPV6_MREQ, "ipv6mr_ifindex");

    private MulticastRequest() {
    }

    /**
     * Writes an {@code ip_mreqn} into {@code dst} (allocated with {@link #IP_MREQN}): group
     * {@code multiaddr} and local {@code address} (4 bytes each, or null for {@code INADDR_ANY}) on
     * interface {@code ifindex} (0: any); returns its size.
     */
    public static int writeIpMreqn(MemorySegment dst, byte[] multiaddr, byte[] address, int ifindex) {
        dst.asSlice(0, IP_MREQN.byteSize()).fill((byte) 0);
        if (multiaddr != null) {
            MemorySegment.copy(multiaddr, 0, dst, JAVA_BYTE, IMR_MULTIADDR, 4);
        }
        if (address != null) {
            MemorySegment.copy(address, 0, dst, JAVA_BYTE, IMR_ADDRESS, 4);
        }
        dst.set(JAVA_INT, IMR_IFINDEX, ifindex);
        return (int) IP_MREQN.byteSize();
    }

    /**
     * Writes an {@code ipv6_mreq} into {@code dst} (allocated with {@link #IPV6_MREQ}): group
     * {@code multiaddr} (16 bytes) on interface {@code ifindex} (0: any); returns its size.
     */
    public static int writeIpv6Mreq(MemorySegment dst, byte[] multiaddr, int ifindex) {
        MemorySegment.copy(multiaddr, 0, dst, JAVA_BYTE, IPV6MR_MULTIADDR, 16);
        dst.set(JAVA_INT, IPV6MR_IFINDEX, ifindex);
        return (int) IPV6_MREQ.byteSize();
    }

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }
}
