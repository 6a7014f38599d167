package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.socket.DatagramUnicastIPv6Test;

import java.util.List;

/** Netty's {@link DatagramUnicastIPv6Test} on {@code XdpDatagramChannel}, against itself and NIO. */
public class XdpDatagramUnicastIPv6Test extends DatagramUnicastIPv6Test {
    @Override
    protected List<BootstrapComboFactory<Bootstrap, Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagram(socketProtocolFamily());
    }
}
