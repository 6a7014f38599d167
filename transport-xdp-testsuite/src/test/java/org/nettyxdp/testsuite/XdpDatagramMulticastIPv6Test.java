package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.socket.DatagramMulticastIPv6Test;

import java.util.List;

/** Netty's {@link DatagramMulticastIPv6Test} on {@code XdpDatagramChannel}, against itself and NIO. */
public class XdpDatagramMulticastIPv6Test extends DatagramMulticastIPv6Test {
    @Override
    protected List<BootstrapComboFactory<Bootstrap, Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagram(socketProtocolFamily());
    }
}
