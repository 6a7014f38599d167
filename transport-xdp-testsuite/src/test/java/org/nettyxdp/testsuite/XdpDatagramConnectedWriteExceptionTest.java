package org.nettyxdp.testsuite;

import io.netty.bootstrap.Bootstrap;
import io.netty.testsuite.transport.TestsuitePermutation.BootstrapFactory;
import io.netty.testsuite.transport.socket.DatagramConnectedWriteExceptionTest;

import java.util.List;

/** Netty's {@link DatagramConnectedWriteExceptionTest} on {@code XdpDatagramChannel}. */
public class XdpDatagramConnectedWriteExceptionTest extends DatagramConnectedWriteExceptionTest {
    @Override
    protected List<BootstrapFactory<Bootstrap>> newFactories() {
        return XdpSocketTestPermutation.INSTANCE.datagramSocket();
    }
}
