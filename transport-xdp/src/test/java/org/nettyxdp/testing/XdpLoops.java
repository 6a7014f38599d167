package org.nettyxdp.testing;

import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.util.concurrent.TimeUnit;

/**
 * JUnit 5 extension that gives a test class one {@link XdpEventLoopGroup}, started before its first
 * test and shut down after its last.
 *
 * <pre>{@code
 * @RegisterExtension static final XdpLoops LOOPS = new XdpLoops(1);
 * new Bootstrap().group(LOOPS.group())...
 * }</pre>
 */
public final class XdpLoops implements BeforeAllCallback, AfterAllCallback {
    private final int threads;
    private EventLoopGroup group;

    public XdpLoops(int threads) {
        this.threads = threads;
    }

    /** The group; only valid while the test class runs. */
    public EventLoopGroup group() {
        return group;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        group = new XdpEventLoopGroup(threads);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
    }
}
