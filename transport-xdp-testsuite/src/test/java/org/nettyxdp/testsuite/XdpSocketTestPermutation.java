package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapFactory;
import io.netty.testsuite.transport.socket.SocketTestPermutation;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.util.List;

/**
 * The bootstraps Netty's datagram testsuite runs with: every test runs XDP↔XDP, XDP↔NIO, NIO↔XDP
 * and NIO↔NIO (server↔client), so our channel talks to itself and to the JDK's kernel sockets.
 */
public final class XdpSocketTestPermutation extends SocketTestPermutation {
    /** The one instance the test classes share (with its event loop groups). */
    public static final XdpSocketTestPermutation INSTANCE = new XdpSocketTestPermutation();

    private final EventLoopGroup xdpGroup =
            new XdpEventLoopGroup(NUM_THREADS, new DefaultThreadFactory("testsuite-xdp", true));

    private XdpSocketTestPermutation() {
    }

    private BootstrapFactory<Bootstrap> xdp(SocketProtocolFamily family, String iface) {
        return new BootstrapFactory<>() {
            @Override
            public Bootstrap newInstance() {
                Bootstrap b = new Bootstrap().group(xdpGroup).channelFactory(() -> PathStats.newChannel(family));
                return iface == null ? b : b.option(XdpChannelOption.INTERFACE, iface);
            }

            @Override
            public String toString() {
                return "XDP(" + family + (iface == null ? "" : ", INTERFACE=" + iface) + ")";
            }
        };
    }

    private BootstrapFactory<Bootstrap> nio(SocketProtocolFamily family) {
        return new BootstrapFactory<>() {
            @Override
            public Bootstrap newInstance() {
                return new Bootstrap().group(NIO_GROUP).channelFactory(() -> new NioDatagramChannel(family));
            }

            @Override
            public String toString() {
                return "NIO(" + family + ")";
            }
        };
    }

    @Override
    public List<BootstrapComboFactory<Bootstrap, Bootstrap>> datagram(SocketProtocolFamily family) {
        return datagram(family, null);
    }

    /**
     * As {@link #datagram(SocketProtocolFamily)}, with {@link XdpChannelOption#INTERFACE} set on our
     * channels: a channel bound to the wildcard address then runs its fast path on {@code iface}
     * (without it, wildcard-bound channels use their kernel socket only).
     */
    public List<BootstrapComboFactory<Bootstrap, Bootstrap>> datagram(SocketProtocolFamily family, String iface) {
        List<BootstrapFactory<Bootstrap>> both = List.of(xdp(family, iface), nio(family));
        return combo(both, both);
    }

    /** Client-only datagram tests: our channel alone (NIO's own build covers NIO). */
    @Override
    public List<BootstrapFactory<Bootstrap>> datagramSocket() {
        return List.of(new BootstrapFactory<>() {
            @Override
            public Bootstrap newInstance() {
                return new Bootstrap().group(xdpGroup).channelFactory(() -> PathStats.newChannel(null));
            }

            @Override
            public String toString() {
                return "XDP";
            }
        });
    }
}
