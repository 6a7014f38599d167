package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The modes the kernel chose, as the channel reports them: attach mode in effect, per queue
 * zero-copy or copy ({@code XDP_OPTIONS}), need-wakeup and multi-buffer; zero-copy that is REQUIRED
 * where the kernel refuses it fails the bind saying so.
 */
class BindModesTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void metricsSayWhatTheKernelChose() throws Exception {
        for (XdpAttachMode mode : new XdpAttachMode[] {XdpAttachMode.AUTO, XdpAttachMode.SKB}) {
            // a fresh pair each: a queue just left stays busy a moment (the bind would wait for it)
            VethPair pair = HOSTS.vethPair(2);
            XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                    .channel(XdpDatagramChannel.class).option(XdpChannelOption.XDP_MODE, mode)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
            try {
                XdpChannelMetrics.Modes modes = ch.metrics().modes();
                // veth has native XDP (AUTO picks it) but no AF_XDP zero-copy: copy mode on each queue
                assertEquals(mode == XdpAttachMode.AUTO ? XdpAttachMode.DRV : XdpAttachMode.SKB, modes.attachMode());
                assertEquals(2, modes.queues().size(), modes.toString());
                for (XdpChannelMetrics.QueueMode q : modes.queues()) {
                    assertFalse(q.zeroCopy(), q.toString());
                    assertTrue(q.needWakeup(), q.toString());
                    assertTrue(q.multiBuffer(), q.toString());
                }
                assertTrue(ch.metrics().toString().contains(mode == XdpAttachMode.AUTO ? "native" : "generic"));
            } finally {
                ch.close().sync();
            }
        }
    }

    @Test
    void requiredZeroCopyFailsWhereTheKernelRefusesIt() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        ChannelFuture f = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.ZERO_COPY, XdpZeroCopy.REQUIRED)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).await();
        assertFalse(f.isSuccess(), "veth has no AF_XDP zero-copy");
        StringBuilder sb = new StringBuilder();
        for (Throwable c = f.cause(); c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append(" | ");
        }
        assertTrue(sb.toString().contains("ZERO_COPY is REQUIRED"), sb.toString());
        assertTrue(sb.toString().contains("XdpZeroCopy.AUTO"), sb.toString());
        assertEquals("", Shell.run("ip -o link show dev " + pair.hostIf()).contains("prog/xdp") ? "attached" : "");
    }

    @Test
    void withoutFastPathTheModesSaySo() {
        assertNull(XdpChannelMetrics.Modes.NONE.attachMode());
        assertFalse(XdpChannelMetrics.Modes.NONE.multiBuffer());
        assertEquals("no fast path", XdpChannelMetrics.Modes.NONE.toString());
    }
}
