package org.nettyxdp.channel;

import io.netty.channel.ChannelOption;
import org.nettyxdp.packet.RxChecksumPolicy;

import java.net.InetAddress;
import java.net.NetworkInterface;

import static io.netty.channel.ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION;
import static io.netty.channel.ChannelOption.IP_MULTICAST_ADDR;
import static io.netty.channel.ChannelOption.IP_MULTICAST_IF;
import static io.netty.channel.ChannelOption.IP_MULTICAST_LOOP_DISABLED;
import static io.netty.channel.ChannelOption.IP_MULTICAST_TTL;
import static io.netty.channel.ChannelOption.IP_TOS;
import static io.netty.channel.ChannelOption.SO_BROADCAST;
import static io.netty.channel.ChannelOption.SO_RCVBUF;
import static io.netty.channel.ChannelOption.SO_REUSEADDR;
import static io.netty.channel.ChannelOption.SO_SNDBUF;

/**
 * The option table of an {@link XdpDatagramChannelConfig}: which {@link ChannelOption} its
 * {@code getOption}/{@code setOption} map onto which of its getters and setters.
 */
@SuppressWarnings("deprecation") // DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION: supported as Netty's channels do
final class DatagramOptions {
    /** What {@link #get} returns for an option that is not in the table. */
    static final Object NOT_MINE = new Object();

    /** The options of the table, as {@code getOptions()} lists them after Netty's own. */
    static final ChannelOption<?>[] OPTIONS = {
        SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, IP_MULTICAST_LOOP_DISABLED,
        IP_MULTICAST_ADDR, IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_TOS, DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION,
        XdpChannelOption.INTERFACE, XdpChannelOption.XDP_MODE, XdpChannelOption.ZERO_COPY,
        XdpChannelOption.UMEM_FRAME_SIZE, XdpChannelOption.UMEM_FRAME_COUNT, XdpChannelOption.UMEM_HEADROOM,
        XdpChannelOption.RING_SIZE, XdpChannelOption.RX_CHECKSUM, XdpChannelOption.COPY_FALLBACK_THRESHOLD,
        XdpChannelOption.FAST_PATH, XdpChannelOption.BUSY_POLL_BUDGET, XdpChannelOption.SO_REUSEPORT,
        XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS,
    };

    private DatagramOptions() {
    }

    /** The value of {@code option} in {@code c}, or {@link #NOT_MINE}. */
    static Object get(XdpDatagramChannelConfig c, ChannelOption<?> option) {
        if (option == SO_BROADCAST) {
            return c.isBroadcast();
        }
        if (option == SO_RCVBUF) {
            return c.getReceiveBufferSize();
        }
        if (option == SO_SNDBUF) {
            return c.getSendBufferSize();
        }
        if (option == SO_REUSEADDR) {
            return c.isReuseAddress();
        }
        if (option == IP_MULTICAST_LOOP_DISABLED) {
            return c.isLoopbackModeDisabled();
        }
        if (option == IP_MULTICAST_ADDR) {
            return c.getInterface();
        }
        if (option == IP_MULTICAST_IF) {
            return c.getNetworkInterface();
        }
        if (option == IP_MULTICAST_TTL) {
            return c.getTimeToLive();
        }
        if (option == IP_TOS) {
            return c.getTrafficClass();
        }
        if (option == DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION) {
            return c.getActiveOnOpen();
        }
        if (option == XdpChannelOption.INTERFACE) {
            return c.getInterfaceName();
        }
        if (option == XdpChannelOption.XDP_MODE) {
            return c.getXdpMode();
        }
        if (option == XdpChannelOption.ZERO_COPY) {
            return c.getZeroCopy();
        }
        if (option == XdpChannelOption.UMEM_FRAME_SIZE) {
            return c.getUmemFrameSize();
        }
        if (option == XdpChannelOption.UMEM_FRAME_COUNT) {
            return c.getUmemFrameCount();
        }
        if (option == XdpChannelOption.UMEM_HEADROOM) {
            return c.getUmemHeadroom();
        }
        if (option == XdpChannelOption.RING_SIZE) {
            return c.getRingSize();
        }
        if (option == XdpChannelOption.RX_CHECKSUM) {
            return c.getRxChecksum();
        }
        if (option == XdpChannelOption.COPY_FALLBACK_THRESHOLD) {
            return c.getCopyFallbackThreshold();
        }
        if (option == XdpChannelOption.FAST_PATH) {
            return c.isFastPath();
        }
        if (option == XdpChannelOption.BUSY_POLL_BUDGET) {
            return c.getBusyPollBudget();
        }
        if (option == XdpChannelOption.SO_REUSEPORT) {
            return c.isReusePort();
        }
        if (option == XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS) {
            return c.getTxDrainTimeoutMillis();
        }
        return NOT_MINE;
    }

    /** Sets {@code option} (validated by the caller) in {@code c}; false if it is not in the table. */
    static boolean set(XdpDatagramChannelConfig c, ChannelOption<?> option, Object value) {
        if (option == SO_BROADCAST) {
            c.setBroadcast((Boolean) value);
        } else if (option == SO_RCVBUF) {
            c.setReceiveBufferSize((Integer) value);
        } else if (option == SO_SNDBUF) {
            c.setSendBufferSize((Integer) value);
        } else if (option == SO_REUSEADDR) {
            c.setReuseAddress((Boolean) value);
        } else if (option == IP_MULTICAST_LOOP_DISABLED) {
            c.setLoopbackModeDisabled((Boolean) value);
        } else if (option == IP_MULTICAST_ADDR) {
            c.setInterface((InetAddress) value);
        } else if (option == IP_MULTICAST_IF) {
            c.setNetworkInterface((NetworkInterface) value);
        } else if (option == IP_MULTICAST_TTL) {
            c.setTimeToLive((Integer) value);
        } else if (option == IP_TOS) {
            c.setTrafficClass((Integer) value);
        } else if (option == DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION) {
            c.setActiveOnOpen((Boolean) value);
        } else if (option == XdpChannelOption.INTERFACE) {
            c.setInterfaceName((String) value);
        } else if (option == XdpChannelOption.XDP_MODE) {
            c.setXdpMode((XdpAttachMode) value);
        } else if (option == XdpChannelOption.ZERO_COPY) {
            c.setZeroCopy((XdpZeroCopy) value);
        } else if (option == XdpChannelOption.UMEM_FRAME_SIZE) {
            c.setUmem(c.getUmem().withFrameSize((Integer) value));
        } else if (option == XdpChannelOption.UMEM_FRAME_COUNT) {
            c.setUmem(c.getUmem().withFrameCount((Integer) value));
        } else if (option == XdpChannelOption.UMEM_HEADROOM) {
            c.setUmem(c.getUmem().withHeadroom((Integer) value));
        } else if (option == XdpChannelOption.RING_SIZE) {
            c.setRingSize((Integer) value);
        } else if (option == XdpChannelOption.RX_CHECKSUM) {
            c.setRxChecksum((RxChecksumPolicy) value);
        } else if (option == XdpChannelOption.COPY_FALLBACK_THRESHOLD) {
            c.setCopyFallbackThreshold((Double) value);
        } else if (option == XdpChannelOption.FAST_PATH) {
            c.setFastPath((Boolean) value);
        } else if (option == XdpChannelOption.BUSY_POLL_BUDGET) {
            c.setBusyPollBudget((Integer) value);
        } else if (option == XdpChannelOption.SO_REUSEPORT) {
            c.setReusePort((Boolean) value);
        } else if (option == XdpChannelOption.TX_DRAIN_TIMEOUT_MILLIS) {
            c.setTxDrainTimeoutMillis((Integer) value);
        } else {
            return false;
        }
        return true;
    }
}
