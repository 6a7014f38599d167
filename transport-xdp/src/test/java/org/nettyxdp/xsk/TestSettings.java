package org.nettyxdp.xsk;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.ZeroCopyMode;

/** Fast-path settings for tests that open an {@link XdpFastPath} directly: generic mode, 64-slot rings. */
final class TestSettings {
    private TestSettings() {
    }

    static FastPathSettings generic(int frameSize, int frames, RxChecksumPolicy checksum) {
        return generic(frameSize, frames, checksum, 0.5, ByteBufAllocator.DEFAULT);
    }

    /** As above, copying into {@code alloc} once the application holds {@code copyFallbackThreshold}. */
    static FastPathSettings generic(int frameSize, int frames, RxChecksumPolicy checksum, double copyFallbackThreshold,
                                    ByteBufAllocator alloc) {
        return new FastPathSettings(new UmemConfig(frameSize, frames, 0, 0), 64, XdpMode.SKB, ZeroCopyMode.AUTO, 0,
                new FastPathSettings.Tunables() {
                    @Override
                    public RxChecksumPolicy rxChecksum() {
                        return checksum;
                    }

                    @Override
                    public double copyFallbackThreshold() {
                        return copyFallbackThreshold;
                    }

                    @Override
                    public int trafficClass() {
                        return 0;
                    }

                    @Override
                    public ByteBufAllocator allocator() {
                        return alloc;
                    }
                });
    }
}
