package org.nettyxdp.buffer;

import org.nettyxdp.packet.XdpPacket;

/**
 * Checks an RX descriptor from the kernel against the UMEM's geometry before anything reads the frame
 * it names: the address must lie in the UMEM, the packet must start after the kernel headroom of its
 * (aligned) frame, and be non-empty and end within that frame.
 */
final class RxDescriptor {
    /** A packet where the kernel puts one. */
    static final int VALID = 0;
    /** In a frame of the UMEM, but not a packet the kernel would deliver: the frame may be returned. */
    static final int BAD_PACKET = 1;
    /** Names no frame of the UMEM: nothing to return. */
    static final int NOT_A_FRAME = 2;

    private RxDescriptor() {
    }

    /**
     * Checks descriptor {@code (addr, len)} against a UMEM of {@code umemSize} bytes in frames of
     * {@code frameSize} bytes (a power of two); {@code len} is unsigned, as the kernel's {@code __u32}.
     */
    static int check(long addr, int len, long umemSize, int frameSize) {
        if (addr < 0 || addr >= umemSize) {
            return NOT_A_FRAME;
        }
        long offset = addr & (frameSize - 1);
        long end = offset + Integer.toUnsignedLong(len);
        if (offset < XdpPacket.XDP_PACKET_HEADROOM || len == 0 || end > frameSize) {
            return BAD_PACKET;
        }
        return VALID;
    }
}
