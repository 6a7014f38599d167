package org.nettyxdp.socket;

import org.nettyxdp.packet.XdpPacket;

/**
 * Geometry of a {@link Umem}: how many frames of which size, the headroom the kernel leaves in front
 * of received data, and the TX metadata area.
 *
 * @param frameSize       bytes per frame: 2048 or 4096
 * @param frameCount      number of frames (the UMEM is {@code frameSize * frameCount} bytes)
 * @param headroom        extra bytes the kernel keeps free before RX data, on top of
 *                        {@code XDP_PACKET_HEADROOM}; lets a reply prepend headers in place
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
        if (headroom < 0 || headroom > frameSize - XdpPacket.XDP_PACKET_HEADROOM - 128) {
            throw new IllegalArgumentException("headroom out of range [0, "
                    + (frameSize - XdpPacket.XDP_PACKET_HEADROOM - 128) + "]: " + headroom);
        }
        if (txMetadataLen < 0 || txMetadataLen > 256 || (txMetadataLen & 7) != 0) {
            throw new IllegalArgumentException("txMetadataLen must be a multiple of 8 in [0, 256]: " + txMetadataLen);
        }
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
