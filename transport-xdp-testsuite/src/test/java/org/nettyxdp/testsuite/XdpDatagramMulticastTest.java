package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.socket.DatagramMulticastTest;

import java.util.List;

/** Netty's {@link DatagramMulticastTest} on {@code XdpDatagramChannel}, against itself and NIO. */
public class XdpDatagramMulticastTest extends DatagramMulticastTest {
    @Override
    protected List<BootstrapComboFactory<Bootstrap, Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagram(socketProtocolFamily());
    }
}
