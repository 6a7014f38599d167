package org.nettyxdp.socket;

import org.nettyxdp.packet.XdpPacket;

/**
 * Geometry of a {@link Umem}: how many frames of which size, the headroom the kernel leaves in front
 * of received data, and the TX metadata area.
 *
 * @param frameSize       bytes per frame: 2048 or 4096
 * @param frameCount      number of frames (the UMEM is {@code frameSize * frameCount} bytes)
 * @param headroom        extra bytes the kernel keeps free before RX data, on top of
 *                        {@code XDP_PACKET_HEADROOM}; lets a reply prepend headers in place; at most
 *                        {@link #maxHeadroom(int)}
 * @param txMetadataLen   bytes of {@code struct xsk_tx_metadata} before TX data (0 = none; else a
 *                        multiple of 8, at most 256)
 */
public record UmemConfig(int frameSize, int frameCount, int headroom, int txMetadataLen) {
    /** 4096 frames of 2048 bytes, no extra headroom, no TX metadata. */
    public static final UmemConfig DEFAULT = new UmemConfig(2048, 4096, 0, 0);

    public UmemConfig {
        if (frameSize != 2048 && frameSize != 4096) {
            throw new IllegalArgumentException("frameSize must be 2048 or 4096: " + frameSize);
        }
        if (frameCount < 64 || Integer.bitCount(frameCount) != 1) {
            throw new IllegalArgumentException("frameCount must be a power of two >= 64: " + frameCount);
        }
        if (headroom < 0 || headroom > maxHeadroom(frameSize)) {
            throw new IllegalArgumentException("UMEM headroom (XdpChannelOption.UMEM_HEADROOM) out of range [0, "
                    + maxHeadroom(frameSize) + "] for " + frameSize + "-byte frames: " + headroom + " (the kernel"
                    + " keeps XDP_PACKET_HEADROOM, an aligned skb_shared_info and 128 bytes of each frame)");
        }
        if (txMetadataLen < 0 || txMetadataLen > 256 || (txMetadataLen & 7) != 0) {
            throw new IllegalArgumentException("txMetadataLen must be a multiple of 8 in [0, 256]: " + txMetadataLen);
        }
    }

    /**
     * Bytes of the tail of a frame the kernel reserves for a multi-buffer frame's
     * {@code skb_shared_info}: {@code SKB_DATA_ALIGN(sizeof(struct skb_shared_info))} with 64-byte
     * cache lines (x86-64, arm64).
     */
    static final int SKB_SHARED_INFO_SPACE = 320;

    /**
     * The largest headroom {@code XDP_UMEM_REG} takes with {@code frameSize}-byte frames (1 344 for
     * 2048, 3 392 for 4096): since "xsk: tighten UMEM headroom validation to account for tailroom and
     * min frame" (upstream a315e022a72d, backported to the stable kernels; seen on 6.18) {@code xdp_umem_reg}
     * answers a bare {@code EINVAL} to more than {@code chunk_size - XDP_PACKET_HEADROOM -
     * SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) - 128}. Older kernels take more; this limit holds
     * on all of them.
     */
    public static int maxHeadroom(int frameSize) {
        return frameSize - XdpPacket.XDP_PACKET_HEADROOM - SKB_SHARED_INFO_SPACE - 128;
    }

    /** Total UMEM size in bytes. */
    public long size() {
        return (long) frameSize * frameCount;
    }

    /** Longest frame one RX chunk holds: the frame minus both headrooms. */
    public int maxRxFrameLength() {
        return frameSize - XdpPacket.XDP_PACKET_HEADROOM - headroom;
    }

    public UmemConfig withFrameSize(int v) {
        return new UmemConfig(v, frameCount, headroom, txMetadataLen);
    }

    public UmemConfig withFrameCount(int v) {
        return new UmemConfig(frameSize, v, headroom, txMetadataLen);
    }

    public UmemConfig withHeadroom(int v) {
        return new UmemConfig(frameSize, frameCount, v, txMetadataLen);
    }

    public UmemConfig withTxMetadataLen(int v) {
        return new UmemConfig(frameSize, frameCount, headroom, v);
    }
}
