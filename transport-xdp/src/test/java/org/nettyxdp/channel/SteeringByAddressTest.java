package org.nettyxdp.channel;

import org.nettyxdp.testing.Collector;
import org.nettyxdp.packet.DropReason;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.XdpLoops;
import org.nettyxdp.testing.VethPair;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The steering program takes only datagrams to the channel's own address: a kernel socket bound to
 * another address of the same interface with the same port (or to the other IP family) still gets its
 * datagrams, and the channel never sees them (no {@link DropReason#NOT_FOR_US} drops).
 */
class SteeringByAddressTest {
    private static final int ROUNDS = 10;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** {@code address} with its last byte set to {@code last}. */
    private static InetAddress withLastByte(InetAddress address, int last) throws Exception {
        byte[] b = address.getAddress();
        b[b.length - 1] = (byte) last;
        return InetAddress.getByAddress(b);
    }

    @Test
    void kernelSocketOnSecondIpv4AddressKeepsItsDatagrams() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetAddress second = withLastByte(pair.hostV4(), 3);
        Shell.run("ip addr add " + second.getHostAddress() + "/24 dev " + pair.hostIf());
        run(pair, pair.hostV4(), second, pair.peerV4(), pair.peerV4());
    }

    @Test
    void kernelSocketOnSecondIpv6AddressKeepsItsDatagrams() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        InetAddress second = withLastByte(pair.hostV6(), 3);
        Shell.run("ip -6 addr add " + second.getHostAddress() + "/64 dev " + pair.hostIf() + " nodad");
        run(pair, pair.hostV6(), second, pair.peerV6(), pair.peerV6());
    }

    @Test
    void ipv4ChannelLeavesIpv6OnTheSamePortToTheKernel() throws Exception {
        // the channel's fast path serves only its IPv4 address; a kernel socket at [hostV6]:port gets IPv6
        VethPair pair = HOSTS.vethPair(1);
        run(pair, pair.hostV4(), pair.hostV6(), pair.peerV4(), pair.peerV6());
    }

    /**
     * Binds an XDP channel to {@code channelIp:p} and a plain socket to {@code kernelIp:p}, sends
     * {@link #ROUNDS} datagrams to each from the peer namespace (interleaved) and checks that each side
     * gets exactly its own.
     */
    private static void run(VethPair pair, InetAddress channelIp, InetAddress kernelIp, InetAddress peerToChannel,
                            InetAddress peerToKernel) throws Exception {
        Collector collector = new Collector();
        XdpDatagramChannel ch = (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .handler(collector).bind(new InetSocketAddress(channelIp, 0)).sync().channel();
        try {
            assertTrue(ch.isFastPathActive(), "fast path on " + pair.hostIf());
            int port = ch.localAddress().getPort();
            InetSocketAddress toChannel = new InetSocketAddress(channelIp, port);
            InetSocketAddress toKernel = new InetSocketAddress(kernelIp, port);
            try (DatagramSocket kernel = new DatagramSocket(null)) {
                kernel.setReuseAddress(true);
                kernel.bind(toKernel);
                kernel.setSoTimeout(3000);
                pair.peer().call(() -> {
                    try (DatagramSocket toCh = new DatagramSocket(new InetSocketAddress(peerToChannel, 0));
                         DatagramSocket toK = peerToKernel.equals(peerToChannel) ? toCh
                                 : new DatagramSocket(new InetSocketAddress(peerToKernel, 0))) {
                        for (int i = 0; i < ROUNDS; i++) {
                            send(toCh, "channel-" + i, toChannel);
                            send(toK, "kernel-" + i, toKernel);
                        }
                    } // closing toCh twice (when toK is toCh) is harmless
                    return null;
                });
                List<String> kernelGot = new ArrayList<>();
                try {
                    while (kernelGot.size() < ROUNDS) {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[256], 256);
                        kernel.receive(p);
                        kernelGot.add(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                    }
                } catch (SocketTimeoutException e) {
                    // reported below
                }
                List<String> channelGot = new ArrayList<>();
                String s;
                while (channelGot.size() < ROUNDS && (s = collector.received.poll(3, TimeUnit.SECONDS)) != null) {
                    channelGot.add(s);
                }
                XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
                List<String> wantChannel = new ArrayList<>();
                List<String> wantKernel = new ArrayList<>();
                for (int i = 0; i < ROUNDS; i++) {
                    wantChannel.add("channel-" + i);
                    wantKernel.add("kernel-" + i);
                }
                assertEquals(wantKernel, kernelGot, "kernel socket at " + toKernel + "; channel metrics: " + m);
                assertEquals(wantChannel, channelGot, "XDP channel at " + toChannel + "; metrics: " + m);
                assertEquals(0L, m.drops().getOrDefault(DropReason.NOT_FOR_US, 0L), m.toString());
                assertEquals(0, m.dropped(), m.toString());
                assertEquals(ROUNDS, m.rxFastPackets(), "the channel's datagrams took the fast path: " + m);
                Thread.sleep(200);
                assertEquals(null, collector.received.poll(), "nothing else reached the channel");
            }
        } finally {
            ch.close().sync();
        }
    }

    private static void send(DatagramSocket s, String text, InetSocketAddress to) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        s.send(new java.net.DatagramPacket(b, b.length, to));
    }
}
