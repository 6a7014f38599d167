package org.nettyxdp.socket;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The AF_XDP structs of {@code linux/if_xdp.h} as {@link MemoryLayout}s, and the offsets the socket
 * and the rings use, all derived from them by name.
 *
 * <p>These structs consist of fixed-width, naturally aligned fields ({@code __u16}, {@code __u32},
 * {@code __u64}), so they have the same layout on every supported {@link org.nettyxdp.sys.Arch}
 * (x86_64 and aarch64, both LP64 with 8-byte aligned {@code __u64}).
 */
final class XdpStructs {
    /** {@code struct sockaddr_xdp}. */
    static final StructLayout SOCKADDR_XDP = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sxdp_family"),
            JAVA_SHORT.withName("sxdp_flags"),
            JAVA_INT.withName("sxdp_ifindex"),
            JAVA_INT.withName("sxdp_queue_id"),
            JAVA_INT.withName("sxdp_shared_umem_fd"));

    /**
     * {@code struct xdp_umem_reg} with {@code tx_metadata_len} (Linux 6.8+). Older kernels see the same
     * 32 bytes, the last four being the padding after {@code flags}; they ignore it.
     */
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

    /** {@code struct xdp_desc}: an entry of the RX and TX rings. */
    static final StructLayout DESC = MemoryLayout.structLayout(
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("len"),
            JAVA_INT.withName("options"));

    /** {@code struct xdp_statistics} (the kernel may write fewer fields: older ones know only three). */
    static final StructLayout STATISTICS = MemoryLayout.structLayout(
            JAVA_LONG.withName("rx_dropped"),
            JAVA_LONG.withName("rx_invalid_descs"),
            JAVA_LONG.withName("tx_invalid_descs"),
            JAVA_LONG.withName("rx_ring_full"),
            JAVA_LONG.withName("rx_fill_ring_empty_descs"),
            JAVA_LONG.withName("tx_ring_empty_descs"));

    /** {@code struct xdp_options}. */
    static final StructLayout OPTIONS = MemoryLayout.structLayout(JAVA_INT.withName("flags"));

    /** Size of an RX/TX ring entry. */
    static final long DESC_SIZE = DESC.byteSize();
    static final long DESC_ADDR = offset(DESC, "addr");
    static final long DESC_LEN = offset(DESC, "len");
    static final long DESC_OPTIONS = offset(DESC, "options");
    /** Size of a fill/completion ring entry: a {@code __u64} UMEM address. */
    static final long ADDR_SIZE = JAVA_LONG.byteSize();

    private XdpStructs() {
    }

    /** Byte offset of the field at {@code path} (group element names) in {@code layout}. */
    static long offset(MemoryLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }
}
