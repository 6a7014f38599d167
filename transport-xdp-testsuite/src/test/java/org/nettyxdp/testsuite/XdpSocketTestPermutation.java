package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapFactory;
import io.netty.testsuite.transport.socket.SocketTestPermutation;
import io.netty.util.concurrent.DefaultThreadFactory;
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

    private BootstrapFactory<Bootstrap> xdp(SocketProtocolFamily family) {
        return new BootstrapFactory<>() {
            @Override
            public Bootstrap newInstance() {
                return new Bootstrap().group(xdpGroup).channelFactory(() -> PathStats.newChannel(family));
            }

            @Override
            public String toString() {
                return "XDP(" + family + ")";
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
        List<BootstrapFactory<Bootstrap>> both = List.of(xdp(family), nio(family));
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
