package org.nettyxdp.channel;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.socket.DatagramChannelConfig;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.socket.CompanionSocket;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.xsk.FastPathSettings;
import org.nettyxdp.sys.Linux;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Enumeration;
import java.util.Map;
import java.util.Objects;


/**
 * Configuration of an {@link XdpDatagramChannel}: the standard datagram options, which apply to the
 * channel's companion kernel socket (and IP_TOS to fast-path headers too), and the
 * {@link XdpChannelOption}s of the fast path, validated when set.
 */
public final class XdpDatagramChannelConfig extends DefaultChannelConfig implements DatagramChannelConfig {
    private final XdpDatagramChannel channel;
    private volatile boolean activeOnOpen;
    private volatile String interfaceName;
    private volatile XdpAttachMode xdpMode = XdpAttachMode.AUTO;
    private volatile XdpZeroCopy zeroCopy = XdpZeroCopy.AUTO;
    private volatile UmemConfig umem = UmemConfig.DEFAULT;
    private volatile int ringSize = 2048;
    private volatile RxChecksumPolicy rxChecksum = RxChecksumPolicy.VERIFY_UNLESS_PARTIAL;
    private volatile double copyFallbackThreshold = 0.5;
    private volatile boolean fastPath = true;
    private volatile int busyPollBudget;
    private volatile int txDrainTimeoutMillis = 1000;
    private volatile int trafficClass;
    private volatile NetworkInterface multicastInterface;

    XdpDatagramChannelConfig(XdpDatagramChannel channel) {
        super(channel, new FixedRecvByteBufAllocator(2048));
        this.channel = channel;
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), DatagramOptions.OPTIONS);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        Object value = DatagramOptions.get(this, option);
        return value != DatagramOptions.NOT_MINE ? (T) value : super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        return DatagramOptions.set(this, option, value) || super.setOption(option, value);
    }

    private void checkNotBound(String what) {
        if (channel.isFastPathActive()) {
            throw new IllegalStateException(what + " cannot change after bind");
        }
    }

    boolean getActiveOnOpen() {
        return activeOnOpen;
    }

    void setActiveOnOpen(boolean activeOnOpen) {
        if (channel.isRegistered()) {
            throw new IllegalStateException("can only be changed before channel was registered");
        }
        this.activeOnOpen = activeOnOpen;
    }

    /** Interface the fast path receives on, or null to use the one owning the bound address. */
    public String getInterfaceName() {
        return interfaceName;
    }

    /** Sets {@link XdpChannelOption#INTERFACE}: at most 15 characters, or null. */
    public XdpDatagramChannelConfig setInterfaceName(String name) {
        checkNotBound("INTERFACE");
        if (name != null && (name.isEmpty() || name.length() > 15)) {
            throw new IllegalArgumentException("not an interface name: '" + name + "'");
        }
        this.interfaceName = name;
        return this;
    }

    /** How the steering program attaches ({@link XdpChannelOption#XDP_MODE}). */
    public XdpAttachMode getXdpMode() {
        return xdpMode;
    }

    /** Sets {@link XdpChannelOption#XDP_MODE}; only before bind. */
    public XdpDatagramChannelConfig setXdpMode(XdpAttachMode mode) {
        checkNotBound("XDP_MODE");
        this.xdpMode = Objects.requireNonNull(mode, "XDP_MODE");
        return this;
    }

    /** The AF_XDP bind mode asked for ({@link XdpChannelOption#ZERO_COPY}). */
    public XdpZeroCopy getZeroCopy() {
        return zeroCopy;
    }

    /** Sets {@link XdpChannelOption#ZERO_COPY}; only before bind. */
    public XdpDatagramChannelConfig setZeroCopy(XdpZeroCopy zeroCopy) {
        checkNotBound("ZERO_COPY");
        this.zeroCopy = Objects.requireNonNull(zeroCopy, "ZERO_COPY");
        return this;
    }

    /** The UMEM geometry each interface queue gets (internal type: see the public getters below). */
    UmemConfig getUmem() {
        return umem;
    }

    /** Bytes per UMEM frame. */
    public int getUmemFrameSize() {
        return umem.frameSize();
    }

    /** UMEM frames per interface queue. */
    public int getUmemFrameCount() {
        return umem.frameCount();
    }

    /** Extra headroom kept before received data. */
    public int getUmemHeadroom() {
        return umem.headroom();
    }

    void setUmem(UmemConfig umem) {
        checkNotBound("UMEM geometry");
        this.umem = umem;
    }

    /** Slots in each RX and TX ring ({@link XdpChannelOption#RING_SIZE}). */
    public int getRingSize() {
        return ringSize;
    }

    /** Sets {@link XdpChannelOption#RING_SIZE}: a power of two in [8, 65536]; only before bind. */
    public XdpDatagramChannelConfig setRingSize(int ringSize) {
        checkNotBound("RING_SIZE");
        if (ringSize < 8 || ringSize > 65536 || Integer.bitCount(ringSize) != 1) {
            throw new IllegalArgumentException("RING_SIZE must be a power of two in [8, 65536]: " + ringSize);
        }
        this.ringSize = ringSize;
        return this;
    }

    /** How received checksums are checked ({@link XdpChannelOption#RX_CHECKSUM}). */
    public RxChecksumPolicy getRxChecksum() {
        return rxChecksum;
    }

    /** Sets {@link XdpChannelOption#RX_CHECKSUM}; takes effect at once. */
    public XdpDatagramChannelConfig setRxChecksum(RxChecksumPolicy policy) {
        this.rxChecksum = Objects.requireNonNull(policy, "RX_CHECKSUM");
        return this;
    }

    /** Share of the UMEM's frames the application may hold before datagrams are copied ({@link XdpChannelOption#COPY_FALLBACK_THRESHOLD}). */
    public double getCopyFallbackThreshold() {
        return copyFallbackThreshold;
    }

    /** Sets {@link XdpChannelOption#COPY_FALLBACK_THRESHOLD}: a share in (0, 1]. */
    public XdpDatagramChannelConfig setCopyFallbackThreshold(double share) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("COPY_FALLBACK_THRESHOLD must be in (0, 1]: " + share);
        }
        this.copyFallbackThreshold = share;
        return this;
    }

    /** False if the channel uses only its kernel socket ({@link XdpChannelOption#FAST_PATH}). */
    public boolean isFastPath() {
        return fastPath;
    }

    /** Sets {@link XdpChannelOption#FAST_PATH}; only before bind. */
    public XdpDatagramChannelConfig setFastPath(boolean fastPath) {
        checkNotBound("FAST_PATH");
        this.fastPath = fastPath;
        return this;
    }

    /** The AF_XDP sockets' busy-poll budget, 0 for off ({@link XdpChannelOption#BUSY_POLL_BUDGET}). */
    public int getBusyPollBudget() {
        return busyPollBudget;
    }

    /** Sets {@link XdpChannelOption#BUSY_POLL_BUDGET}: in [0, 65535]; only before bind. */
    public XdpDatagramChannelConfig setBusyPollBudget(int budget) {
        checkNotBound("BUSY_POLL_BUDGET");
        if (budget < 0 || budget > 65535) {
            throw new IllegalArgumentException("BUSY_POLL_BUDGET must be in [0, 65535]: " + budget);
        }
        this.busyPollBudget = budget;
        return this;
    }

    public int getTxDrainTimeoutMillis() {
        return txDrainTimeoutMillis;
    }

    /** See {@link XdpChannelOption#TX_DRAIN_TIMEOUT_MILLIS}: a positive number of milliseconds. */
    public XdpDatagramChannelConfig setTxDrainTimeoutMillis(int millis) {
        if (millis <= 0) {
            throw new IllegalArgumentException("TX_DRAIN_TIMEOUT_MILLIS must be > 0: " + millis);
        }
        this.txDrainTimeoutMillis = millis;
        return this;
    }

    /** What the fast path is opened with: this config's values now, and the options it reads per batch. */
    FastPathSettings fastPathSettings() {
        return new FastPathSettings(umem, ringSize, FastPathModes.attach(xdpMode), FastPathModes.zeroCopy(zeroCopy),
                busyPollBudget, tunables, isReusePort());
    }

    private final FastPathSettings.Tunables tunables = new FastPathSettings.Tunables() {
        @Override
        public RxChecksumPolicy rxChecksum() {
            return rxChecksum;
        }

        @Override
        public double copyFallbackThreshold() {
            return copyFallbackThreshold;
        }

        @Override
        public int trafficClass() {
            return trafficClass;
        }

        @Override
        public ByteBufAllocator allocator() {
            return getAllocator();
        }
    };

    // ---- standard datagram options: the companion kernel socket holds them ----

    private CompanionSocket socket() {
        return channel.companion();
    }

    /** A {@code SOL_SOCKET} option of the companion socket. */
    private int socketInt(int option, String name) {
        try {
            return socket().getInt(Linux.SOL_SOCKET, option, name);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /** Sets a {@code SOL_SOCKET} option of the companion socket. */
    private void setSocketInt(int option, int value, String name) {
        try {
            socket().setInt(Linux.SOL_SOCKET, option, value, name);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public int getSendBufferSize() {
        return socketInt(Linux.SO_SNDBUF, "SO_SNDBUF");
    }

    @Override
    public XdpDatagramChannelConfig setSendBufferSize(int size) {
        setSocketInt(Linux.SO_SNDBUF, size, "SO_SNDBUF");
        return this;
    }

    @Override
    public int getReceiveBufferSize() {
        return socketInt(Linux.SO_RCVBUF, "SO_RCVBUF");
    }

    @Override
    public XdpDatagramChannelConfig setReceiveBufferSize(int size) {
        setSocketInt(Linux.SO_RCVBUF, size, "SO_RCVBUF");
        return this;
    }

    @Override
    public int getTrafficClass() {
        return trafficClass;
    }

    @Override
    public XdpDatagramChannelConfig setTrafficClass(int tc) {
        if (tc < 0 || tc > 255) {
            throw new IllegalArgumentException("IP_TOS must be in [0, 255]: " + tc);
        }
        try {
            socket().setTrafficClass(tc);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
        this.trafficClass = tc;
        return this;
    }

    /** {@code SO_REUSEPORT} of the kernel socket: see {@link XdpChannelOption#SO_REUSEPORT}. */
    public boolean isReusePort() {
        return socketInt(Linux.SO_REUSEPORT, "SO_REUSEPORT") != 0;
    }

    /** Sets {@code SO_REUSEPORT}; before bind, on every channel sharing the address and port. */
    public XdpDatagramChannelConfig setReusePort(boolean reusePort) {
        setSocketInt(Linux.SO_REUSEPORT, reusePort ? 1 : 0, "SO_REUSEPORT");
        return this;
    }

    @Override
    public boolean isReuseAddress() {
        return socketInt(Linux.SO_REUSEADDR, "SO_REUSEADDR") != 0;
    }

    @Override
    public XdpDatagramChannelConfig setReuseAddress(boolean reuse) {
        setSocketInt(Linux.SO_REUSEADDR, reuse ? 1 : 0, "SO_REUSEADDR");
        return this;
    }

    @Override
    public boolean isBroadcast() {
        return socketInt(Linux.SO_BROADCAST, "SO_BROADCAST") != 0;
    }

    @Override
    public XdpDatagramChannelConfig setBroadcast(boolean broadcast) {
        setSocketInt(Linux.SO_BROADCAST, broadcast ? 1 : 0, "SO_BROADCAST");
        return this;
    }

    @Override
    public boolean isLoopbackModeDisabled() {
        try {
            return !socket().isMulticastLoop();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public XdpDatagramChannelConfig setLoopbackModeDisabled(boolean disabled) {
        try {
            socket().setMulticastLoop(!disabled);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
        return this;
    }

    @Override
    public int getTimeToLive() {
        try {
            return socket().getMulticastTtl();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public XdpDatagramChannelConfig setTimeToLive(int ttl) {
        try {
            socket().setMulticastTtl(ttl);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
        return this;
    }

    @Override
    public InetAddress getInterface() {
        NetworkInterface ni = getNetworkInterface();
        if (ni == null) {
            return null;
        }
        Enumeration<InetAddress> addresses = ni.getInetAddresses();
        return addresses.hasMoreElements() ? addresses.nextElement() : null;
    }

    @Override
    public XdpDatagramChannelConfig setInterface(InetAddress address) {
        try {
            return setNetworkInterface(NetworkInterface.getByInetAddress(address));
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public NetworkInterface getNetworkInterface() {
        return multicastInterface;
    }

    @Override
    public XdpDatagramChannelConfig setNetworkInterface(NetworkInterface ni) {
        try {
            socket().setMulticastInterface(ni);
        } catch (IOException e) {
            throw new ChannelException(e);
        }
        this.multicastInterface = ni;
        return this;
    }

    // ---- covariant returns ----

    @Override
    @Deprecated
    public XdpDatagramChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }

    @Override
    public XdpDatagramChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    protected void autoReadCleared() {
        channel.clearReadPending();
    }
}
