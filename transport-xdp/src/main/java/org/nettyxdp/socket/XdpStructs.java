package org.nettyxdp.socket;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** The AF_XDP structs of {@code linux/if_xdp.h} as {@link MemoryLayout}s; offsets used elsewhere follow them. */
final class XdpStructs {
    /** {@code struct sockaddr_xdp}. */
    static final StructLayout SOCKADDR_XDP = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sxdp_family"),
            JAVA_SHORT.withName("sxdp_flags"),
            JAVA_INT.withName("sxdp_ifindex"),
            JAVA_INT.withName("sxdp_queue_id"),
            JAVA_INT.withName("sxdp_shared_umem_fd"));

    /** {@code struct xdp_umem_reg} (with {@code tx_metadata_len}, Linux 6.8+). */
    static final StructLayout UMEM_REG = MemoryLayout.structLayout(
            JAVA_LONG.withName("addr"),
            JAVA_LONG.withName("len"),
            JAVA_INT.withName("chunk_size"),
            JAVA_INT.withName("headroom"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("tx_metadata_len"));

    /** {@code struct xdp_ring_offset}. */
    static final StructLayout RING_OFFSET = MemoryLayout.structLayout(
            JAVA_LONG.withName("producer"),
            JAVA_LONG.withName("consumer"),
            JAVA_LONG.withName("desc"),
            JAVA_LONG.withName("flags"));

    /** {@code struct xdp_mmap_offsets}. */
    static final StructLayout MMAP_OFFSETS = MemoryLayout.structLayout(
            RING_OFFSET.withName("rx"),
            RING_OFFSET.withName("tx"),
            RING_OFFSET.withName("fr"),
            RING_OFFSET.withName("cr"));

    /** {@code struct xdp_desc}. */
    static final StructLayout DESC = MemoryLayout.structLayout(
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("len"),
            JAVA_INT.withName("options"));

    /** {@code struct xdp_statistics}. */
    static final StructLayout STATISTICS = MemoryLayout.structLayout(
            JAVA_LONG.withName("rx_dropped"),
            JAVA_LONG.withName("rx_invalid_descs"),
            JAVA_LONG.withName("tx_invalid_descs"),
            JAVA_LONG.withName("rx_ring_full"),
            JAVA_LONG.withName("rx_fill_ring_empty_descs"),
            JAVA_LONG.withName("tx_ring_empty_descs"));

    private XdpStructs() {
    }
}
