package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.socket.DatagramUnicastInetTest;

import java.util.List;

/** Netty's {@link DatagramUnicastInetTest} on {@code XdpDatagramChannel}, against itself and NIO. */
public class XdpDatagramUnicastInetTest extends DatagramUnicastInetTest {
    @Override
    protected List<BootstrapComboFactory<Bootstrap, Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagram(socketProtocolFamily());
    }
}
