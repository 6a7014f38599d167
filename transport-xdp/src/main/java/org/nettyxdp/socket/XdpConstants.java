package org.nettyxdp.socket;

/** AF_XDP constants from {@code linux/if_xdp.h}. */
final class XdpConstants {
    static final int SOL_XDP = 283;

    static final int XDP_MMAP_OFFSETS = 1;
    static final int XDP_RX_RING = 2;
    static final int XDP_TX_RING = 3;
    static final int XDP_UMEM_REG = 4;
    static final int XDP_UMEM_FILL_RING = 5;
    static final int XDP_UMEM_COMPLETION_RING = 6;
    static final int XDP_STATISTICS = 7;
    static final int XDP_OPTIONS = 8;

    static final int XDP_SHARED_UMEM = 1 << 0;
    static final int XDP_COPY = 1 << 1;
    static final int XDP_ZEROCOPY = 1 << 2;
    static final int XDP_USE_NEED_WAKEUP = 1 << 3;
    static final int XDP_USE_SG = 1 << 4;

    static final int XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1 << 0;
    static final int XDP_UMEM_TX_SW_CSUM = 1 << 1;
    static final int XDP_UMEM_TX_METADATA_LEN = 1 << 2;

    static final int XDP_OPTIONS_ZEROCOPY = 1;
    static final int XDP_RING_NEED_WAKEUP = 1;

    static final long XDP_PGOFF_RX_RING = 0;
    static final long XDP_PGOFF_TX_RING = 0x80000000L;
    static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    private XdpConstants() {
    }
}
