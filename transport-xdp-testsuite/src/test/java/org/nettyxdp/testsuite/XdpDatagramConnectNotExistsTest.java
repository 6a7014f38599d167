package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapFactory;
import io.netty.testsuite.transport.socket.DatagramConnectNotExistsTest;

import java.util.List;

/** Netty's {@link DatagramConnectNotExistsTest} on {@code XdpDatagramChannel}. */
public class XdpDatagramConnectNotExistsTest extends DatagramConnectNotExistsTest {
    @Override
    protected List<BootstrapFactory<Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagramSocket();
    }
}
