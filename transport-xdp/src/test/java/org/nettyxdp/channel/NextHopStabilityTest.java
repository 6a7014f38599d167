package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.EchoClient;
import org.nettyxdp.testing.EchoHandler;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Once a peer's next hop is known, every reply to it takes the fast path: across the hop's refresh
 * (every {@code NextHops.HOP_TTL_NANOS}, 5 s, the refreshed hop resolved while the old one serves) and
 * across link notifications that do not change where frames go (here a {@code txqueuelen} change, as
 * the kernel reports a link's flags, statistics and MTU). Only the first reply, sent before the hop is
 * resolved, takes the kernel socket.
 */
class NextHopStabilityTest {
    private static final long STREAM_NANOS = 12_000_000_000L;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    @Test
    void repliesToAKnownPeerStayOnTheFastPath() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channel(XdpDatagramChannel.class).handler(new EchoHandler())
                .bind(new InetSocketAddress(pair.hostV4(), 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive());
            InetSocketAddress target = ch.localAddress();
            // prime: the first reply leaves through the kernel socket while the hop is resolved
            int primed = 0;
            while (ch.metrics().txFastPackets() == 0 && primed < 1000) {
                assertEquals(1, EchoClient.echoes(pair, target, 1));
                primed++;
            }
            long slowAfterPriming = ch.metrics().txSlowPackets();
            long start = System.nanoTime();
            int sent = 0;
            int linkChanges = 0;
            while (System.nanoTime() - start < STREAM_NANOS) {
                assertEquals(20, EchoClient.echoes(pair, target, 20), "echoes lost: " + ch.metrics());
                sent += 20;
                long elapsed = System.nanoTime() - start;
                if (linkChanges < 2 && elapsed > (linkChanges + 1) * STREAM_NANOS / 3) {
                    Shell.run("ip link set " + pair.hostIf() + " txqueuelen " + (2000 + linkChanges));
                    linkChanges++;
                }
                Thread.sleep(5);
            }
            XdpChannelMetrics m = ch.metrics();
            System.out.println("next-hop stability: " + sent + " echoes after " + primed + " priming, " + m);
            assertEquals(slowAfterPriming, m.txSlowPackets(),
                    "replies to a known peer left through the kernel socket: " + m);
        } finally {
            ch.close().sync();
        }
    }
}
