package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapComboFactory;
import io.netty.testsuite.transport.socket.DatagramUnicastIPv6MappedTest;

import java.util.List;

/**
 * Netty's {@link DatagramUnicastIPv6MappedTest} on {@code XdpDatagramChannel}, against itself and NIO:
 * IPv6 channels bound to the wildcard address talk IPv4 (v4-mapped). With {@code INTERFACE=lo} our
 * wildcard-bound channels run their fast path on lo.
 */
public class XdpDatagramUnicastIPv6MappedTest extends DatagramUnicastIPv6MappedTest {
    @Override
    protected List<BootstrapComboFactory<Bootstrap, Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagram(socketProtocolFamily(), "lo");
    }
}
