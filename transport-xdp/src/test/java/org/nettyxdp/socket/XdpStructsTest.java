package org.nettyxdp.socket;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our layouts against the sizes and offsets of the kernel UAPI, {@code linux/if_xdp.h} (checked with
 * gcc's {@code sizeof}/{@code offsetof} on x86_64). These structs hold only {@code __u16}, {@code __u32}
 * and {@code __u64} fields in naturally aligned positions, and {@code __u64} is 8-byte aligned on both
 * x86_64 and aarch64, so the same numbers are the UAPI's on both architectures.
 */
class XdpStructsTest {
    /** {@code struct sockaddr_xdp { __u16 sxdp_family; __u16 sxdp_flags; __u32 sxdp_ifindex; __u32 sxdp_queue_id; __u32 sxdp_shared_umem_fd; }} */
    @Test
    void sockaddrXdp() {
        assertEquals(16, XdpStructs.SOCKADDR_XDP.byteSize());
        assertEquals(0, offset(XdpStructs.SOCKADDR_XDP, "sxdp_family"));
        assertEquals(2, offset(XdpStructs.SOCKADDR_XDP, "sxdp_flags"));
        assertEquals(4, offset(XdpStructs.SOCKADDR_XDP, "sxdp_ifindex"));
        assertEquals(8, offset(XdpStructs.SOCKADDR_XDP, "sxdp_queue_id"));
        assertEquals(12, offset(XdpStructs.SOCKADDR_XDP, "sxdp_shared_umem_fd"));
    }

    /**
     * {@code struct xdp_umem_reg { __u64 addr; __u64 len; __u32 chunk_size; __u32 headroom; __u32 flags;
     * __u32 tx_metadata_len; }}: 32 bytes; before Linux 6.8 the header ends at {@code flags} and the
     * struct is padded to the same 32.
     */
    @Test
    void umemReg() {
        assertEquals(32, XdpStructs.UMEM_REG.byteSize());
        assertEquals(0, offset(XdpStructs.UMEM_REG, "addr"));
        assertEquals(8, offset(XdpStructs.UMEM_REG, "len"));
        assertEquals(16, offset(XdpStructs.UMEM_REG, "chunk_size"));
        assertEquals(20, offset(XdpStructs.UMEM_REG, "headroom"));
        assertEquals(24, offset(XdpStructs.UMEM_REG, "flags"));
        assertEquals(28, offset(XdpStructs.UMEM_REG, "tx_metadata_len"));
    }

    /** {@code struct xdp_ring_offset { __u64 producer, consumer, desc, flags; }} in {@code struct xdp_mmap_offsets { rx, tx, fr, cr; }} */
    @Test
    void mmapOffsets() {
        assertEquals(32, XdpStructs.RING_OFFSET.byteSize());
        assertEquals(0, offset(XdpStructs.RING_OFFSET, "producer"));
        assertEquals(8, offset(XdpStructs.RING_OFFSET, "consumer"));
        assertEquals(16, offset(XdpStructs.RING_OFFSET, "desc"));
        assertEquals(24, offset(XdpStructs.RING_OFFSET, "flags"));
        assertEquals(128, XdpStructs.MMAP_OFFSETS.byteSize());
        assertEquals(0, offset(XdpStructs.MMAP_OFFSETS, "rx"));
        assertEquals(32, offset(XdpStructs.MMAP_OFFSETS, "tx"));
        assertEquals(64, offset(XdpStructs.MMAP_OFFSETS, "fr"));
        assertEquals(96, offset(XdpStructs.MMAP_OFFSETS, "cr"));
        assertEquals(16, offset(XdpStructs.MMAP_OFFSETS, "rx", "desc"));
        assertEquals(56, offset(XdpStructs.MMAP_OFFSETS, "tx", "flags"));
        assertEquals(72, offset(XdpStructs.MMAP_OFFSETS, "fr", "consumer"));
        assertEquals(96, offset(XdpStructs.MMAP_OFFSETS, "cr", "producer"));
    }

    /** {@code struct xdp_desc { __u64 addr; __u32 len; __u32 options; }}; fill/completion entries are a {@code __u64}. */
    @Test
    void ringEntries() {
        assertEquals(16, XdpStructs.DESC.byteSize());
        assertEquals(16, XdpStructs.DESC_SIZE);
        assertEquals(0, XdpStructs.DESC_ADDR);
        assertEquals(8, XdpStructs.DESC_LEN);
        assertEquals(12, XdpStructs.DESC_OPTIONS);
        assertEquals(8, XdpStructs.ADDR_SIZE);
    }

    /** {@code struct xdp_statistics}: six {@code __u64}; {@code struct xdp_options { __u32 flags; }}. */
    @Test
    void statisticsAndOptions() {
        assertEquals(48, XdpStructs.STATISTICS.byteSize());
        String[] fields = {"rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full",
                "rx_fill_ring_empty_descs", "tx_ring_empty_descs"};
        for (int i = 0; i < fields.length; i++) {
            assertEquals(8L * i, offset(XdpStructs.STATISTICS, fields[i]), fields[i]);
        }
        assertEquals(4, XdpStructs.OPTIONS.byteSize());
        assertEquals(0, offset(XdpStructs.OPTIONS, "flags"));
    }

    private static long offset(MemoryLayout layout, String... path) {
        PathElement[] p = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            p[i] = PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(p);
    }
}
