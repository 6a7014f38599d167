package org.nettyxdp.buffer;

/**
 * Where the frames of one UMEM are at a moment: every frame is in exactly one place, so the parts add
 * up to {@link #total()}.
 *
 * @param total       frames in the UMEM
 * @param free        frames free or just released, ready for reuse
 * @param kernelRx    frames given to the kernel to receive into (fill ring, in flight, RX rings)
 * @param application frames the application holds as {@link UmemByteBuf}s
 * @param tx          frames queued for sending (copies, or buffers sent in place) and not yet completed
 */
public record FrameAccounting(int total, int free, int kernelRx, int application, int tx) {
    /** True when the parts add up to the total. */
    public boolean balanced() {
        return free + kernelRx + application + tx == total;
    }
}
