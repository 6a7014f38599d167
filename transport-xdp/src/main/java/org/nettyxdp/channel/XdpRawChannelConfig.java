package org.nettyxdp.channel;

import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.FixedRecvByteBufAllocator;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.xsk.FastPathSettings;

import java.util.Map;

/**
 * The configuration of an {@link XdpRawChannel}: Netty's standard options plus
 * {@link XdpChannelOption#XDP_MODE}, {@link XdpChannelOption#ZERO_COPY},
 * {@link XdpChannelOption#UMEM_FRAME_SIZE}, {@link XdpChannelOption#UMEM_FRAME_COUNT},
 * {@link XdpChannelOption#RING_SIZE} and {@link XdpChannelOption#COPY_FALLBACK_THRESHOLD}. The UMEM
 * options apply where the channel is the first user of an interface queue; otherwise it shares the
 * queue's UMEM as it is. Set them before bind.
 */
public final class XdpRawChannelConfig extends DefaultChannelConfig {
    private volatile XdpAttachMode xdpMode = XdpAttachMode.AUTO;
    private volatile XdpZeroCopy zeroCopy = XdpZeroCopy.AUTO;
    private volatile UmemConfig umem = UmemConfig.DEFAULT;
    private volatile int ringSize = 2048;
    private volatile double copyFallbackThreshold = 0.5;

    XdpRawChannelConfig(XdpRawChannel channel) {
        super(channel, new FixedRecvByteBufAllocator(2048));
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), XdpChannelOption.XDP_MODE, XdpChannelOption.ZERO_COPY,
                XdpChannelOption.UMEM_FRAME_SIZE, XdpChannelOption.UMEM_FRAME_COUNT, XdpChannelOption.RING_SIZE,
                XdpChannelOption.COPY_FALLBACK_THRESHOLD);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == XdpChannelOption.XDP_MODE) {
            return (T) xdpMode;
        }
        if (option == XdpChannelOption.ZERO_COPY) {
            return (T) zeroCopy;
        }
        if (option == XdpChannelOption.UMEM_FRAME_SIZE) {
            return (T) Integer.valueOf(umem.frameSize());
        }
        if (option == XdpChannelOption.UMEM_FRAME_COUNT) {
            return (T) Integer.valueOf(umem.frameCount());
        }
        if (option == XdpChannelOption.RING_SIZE) {
            return (T) Integer.valueOf(ringSize);
        }
        if (option == XdpChannelOption.COPY_FALLBACK_THRESHOLD) {
            return (T) Double.valueOf(copyFallbackThreshold);
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == XdpChannelOption.XDP_MODE) {
            xdpMode = (XdpAttachMode) value;
        } else if (option == XdpChannelOption.ZERO_COPY) {
            zeroCopy = (XdpZeroCopy) value;
        } else if (option == XdpChannelOption.UMEM_FRAME_SIZE) {
            umem = umem.withFrameSize((Integer) value);
        } else if (option == XdpChannelOption.UMEM_FRAME_COUNT) {
            umem = umem.withFrameCount((Integer) value);
        } else if (option == XdpChannelOption.RING_SIZE) {
            int v = (Integer) value;
            if (v <= 0 || Integer.bitCount(v) != 1) {
                throw new IllegalArgumentException("RING_SIZE must be a power of two: " + v);
            }
            ringSize = v;
        } else if (option == XdpChannelOption.COPY_FALLBACK_THRESHOLD) {
            double v = (Double) value;
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException("COPY_FALLBACK_THRESHOLD must be in [0, 1]: " + v);
            }
            copyFallbackThreshold = v;
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    UmemConfig umem() {
        return umem;
    }

    FastPathSettings settings(UmemConfig umemConfig) {
        return new FastPathSettings(umemConfig, ringSize, FastPathModes.attach(xdpMode), FastPathModes.zeroCopy(zeroCopy),
                0, tunables);
    }

    private final FastPathSettings.Tunables tunables = new FastPathSettings.Tunables() {
        @Override
        public RxChecksumPolicy rxChecksum() {
            return RxChecksumPolicy.IGNORE;
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
        public io.netty.buffer.ByteBufAllocator allocator() {
            return getAllocator();
        }
    };
}
