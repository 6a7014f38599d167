package org.nettyxdp.reliability;

import org.nettyxdp.testing.Frames;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nettyxdp.testing.Frames.ETH_IPV4;
import static org.nettyxdp.testing.Frames.ETH_IPV6;
import static org.nettyxdp.testing.Frames.ETH_VLAN;
import static org.nettyxdp.testing.Frames.UDP;

/**
 * The kernel as the oracle: the same frames, crafted in the peer namespace and sent through an
 * {@code AF_PACKET} socket, go to two echo servers bound to the wildcard address on the same veth, one
 * with {@code FAST_PATH=false} (a kernel socket decides) and one on the fast path (the steering program
 * and the channel decide). For every frame kind — martian sources (the server's own address and port,
 * another own address, loopback, unspecified, multicast, broadcast, IPv4-mapped), other hosts' and
 * group MAC addresses, destinations that are not local, the other family, a VLAN the host does not
 * have, and the hostile kinds of {@link HostileMix} — both servers must receive it the same number of
 * times and answer it the same number of times. Martian frames the kernel drops must be counted under
 * {@link DropReason#MARTIAN_SOURCE} by the fast server, and none may start an echo loop.
 */
class KernelDifferentialTest {
    private static final int MAGIC = HostileMix.MAGIC;
    private static final int TABLE_SEQ = 1_000_000;
    private static final int MIX_SAMPLES = Integer.getInteger("nx.differential.samples", 3000);
    private static final int SOURCE_PORT = 40001;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** Counts datagrams by the sequence number in their payload, then echoes them. */
    @ChannelHandler.Sharable
    static final class CountingEcho extends SimpleChannelInboundHandler<DatagramPacket> {
        final Map<Integer, Integer> counts = new ConcurrentHashMap<>();
        final AtomicLong total = new AtomicLong();
        final java.util.Set<InetAddress> ownAddresses = ConcurrentHashMap.newKeySet();

        CountingEcho() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            total.incrementAndGet();
            ByteBuf b = packet.content();
            if (b.readableBytes() >= 8 && b.getInt(b.readerIndex()) == MAGIC) {
                counts.merge(b.getInt(b.readerIndex() + 4), 1, Integer::sum);
            }
            if (ownAddresses.contains(packet.sender().getAddress())) {
                // Linux delivers IPv6 datagrams from the host's own addresses to a kernel socket; answering
                // them would make the kernel server talk to itself forever (the loop the fast path prevents)
                b.release();
                return;
            }
            ctx.write(new DatagramPacket(b, packet.sender()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        int count(int seq) {
            return counts.getOrDefault(seq, 0);
        }
    }

    /**
     * One row of the table: a frame built for the server port, whether its source is martian, and
     * whether the fast path is deliberately stricter than the kernel there (the kernel delivers, the
     * fast path drops it as {@code MARTIAN_SOURCE}: IPv6 sources a reply would loop back from).
     */
    record Kind(String name, boolean martian, boolean stricter, FrameFn frame) {
        Kind(String name, boolean martian, FrameFn frame) {
            this(name, martian, false, frame);
        }
    }

    interface FrameFn {
        byte[] build(int port, byte[] payload);
    }

    @ParameterizedTest(name = "{0} IPv{1}")
    @CsvSource({"DRV, 4", "DRV, 6", "SKB, 4", "SKB, 6"})
    void fastPathDeliversExactlyWhatTheKernelDelivers(XdpAttachMode mode, int family) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        byte[] hostMac = pair.hostMac();
        byte[] peerMac = pair.peerMac();
        boolean v4 = family == 4;
        InetAddress host = v4 ? pair.hostV4() : pair.hostV6();
        InetAddress peer = v4 ? pair.peerV4() : pair.peerV6();
        // a second address on each side: another local destination, and a second peer for the fast mix
        InetAddress host2 = withLastByte(host, 3);
        InetAddress peer2 = withLastByte(peer, 4);
        Shell.run("ip addr add " + host2.getHostAddress() + (v4 ? "/24" : "/64 nodad") + " dev " + pair.hostIf());
        pair.peer().exec("ip addr add " + peer2.getHostAddress() + (v4 ? "/24" : "/64 nodad") + " dev " + pair.peerIf());

        CountingEcho kernelEcho = new CountingEcho();
        CountingEcho fastEcho = new CountingEcho();
        for (CountingEcho e : List.of(kernelEcho, fastEcho)) {
            e.ownAddresses.addAll(List.of(host, host2));
        }
        XdpDatagramChannel kernel = server(v4, mode, false, pair.hostIf(), kernelEcho);
        XdpDatagramChannel fast = server(v4, mode, true, pair.hostIf(), fastEcho);
        try {
            assertTrue(fast.isFastPathActive(), "fast server on the fast path");
            assertTrue(!kernel.isFastPathActive(), "kernel server on its kernel socket");
            int kPort = kernel.localAddress().getPort();
            int fPort = fast.localAddress().getPort();
            List<Kind> kinds = kinds(v4, hostMac, peerMac, host, host2, peer, pair);
            long martiansBefore = fast.metrics().drops().getOrDefault(DropReason.MARTIAN_SOURCE, 0L);

            HostileMix.Ends kEnds = new HostileMix.Ends(hostMac, peerMac, pair.hostV4(), pair.peerV4(), pair.hostV6(),
                    pair.peerV6(), kPort, kPort);
            HostileMix.Ends fEnds = new HostileMix.Ends(hostMac, peerMac, pair.hostV4(), withLastByte(pair.peerV4(), 4),
                    pair.hostV6(), withLastByte(pair.peerV6(), 4), fPort, fPort);
            if (!v4) {
                pair.peer().exec("ip addr add " + withLastByte(pair.peerV4(), 4).getHostAddress() + "/24 dev "
                        + pair.peerIf());
            } else {
                pair.peer().exec("ip addr add " + withLastByte(pair.peerV6(), 4).getHostAddress() + "/64 nodad dev "
                        + pair.peerIf());
            }
            int chunk = fast.config().getUmemFrameSize() - org.nettyxdp.packet.XdpPacket.XDP_PACKET_HEADROOM
                    - fast.config().getUmemHeadroom();
            HostileMix kMix = new HostileMix(kEnds, 7 + family, 0, chunk, 1500);
            HostileMix fMix = new HostileMix(fEnds, 7 + family, 0, chunk, 1500);

            Map<String, int[]> replies = new TreeMap<>();
            List<String> mixKinds = new ArrayList<>();
            pair.peer().call(() -> {
                try (RawSender tx = new RawSender(pair.peerIf());
                     DatagramSocket answers = new DatagramSocket(new InetSocketAddress(peer, SOURCE_PORT))) {
                    answers.setSoTimeout(1);
                    for (int i = 0; i < kinds.size(); i++) {
                        tx.send(kinds.get(i).frame().build(kPort, payload(TABLE_SEQ + i)));
                        tx.send(kinds.get(i).frame().build(fPort, payload(TABLE_SEQ + i)));
                    }
                    for (int i = 0; i < MIX_SAMPLES; i++) {
                        HostileMix.Sample k = kMix.next();
                        HostileMix.Sample f = fMix.next();
                        assertEquals(k.kind(), f.kind(), "both mixes make the same kinds");
                        mixKinds.add(k.kind());
                        // the veth refuses frames beyond its MTU (ENOBUFS) each time: no point retrying those
                        int retries = k.kind().equals("v4-beyond-mtu") ? 0 : 1000;
                        for (byte[] frame : k.frames()) {
                            tx.send(frame, retries);
                        }
                        for (byte[] frame : f.frames()) {
                            tx.send(frame, retries);
                        }
                        if (i % 32 == 31) {
                            settle(kernelEcho, fastEcho); // stay within the kernel server's receive buffer
                        }
                    }
                    // answers to the table's frames come back to SOURCE_PORT from either server's port
                    long quiet = System.nanoTime() + 1_000_000_000L;
                    byte[] buf = new byte[2048];
                    while (System.nanoTime() < quiet) {
                        java.net.DatagramPacket dp = new java.net.DatagramPacket(buf, buf.length);
                        try {
                            answers.receive(dp);
                        } catch (SocketTimeoutException e) {
                            continue;
                        }
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, dp.getLength());
                        if (dp.getLength() >= 8 && bb.getInt() == MAGIC) {
                            int seq = bb.getInt() - TABLE_SEQ;
                            if (seq >= 0 && seq < kinds.size()) {
                                replies.computeIfAbsent(kinds.get(seq).name(), x -> new int[2])[dp.getPort() == kPort
                                        ? 0 : 1]++;
                            }
                        }
                    }
                }
                return null;
            });
            awaitQuiet(kernelEcho, fastEcho);

            StringBuilder report = new StringBuilder(mode + " IPv" + family + ": kind -> kernel/fast delivered,"
                    + " kernel/fast answered\n");
            List<String> differences = new ArrayList<>();
            int expectedMartians = 0;
            for (int i = 0; i < kinds.size(); i++) {
                Kind k = kinds.get(i);
                int kc = kernelEcho.count(TABLE_SEQ + i);
                int fc = fastEcho.count(TABLE_SEQ + i);
                int[] r = replies.getOrDefault(k.name(), new int[2]);
                report.append(String.format("  %-48s %d/%d  %d/%d%n", k.name(), kc, fc, r[0], r[1]));
                if (k.stricter()) {
                    // the kernel delivers (and may answer itself a few times); the fast path drops it
                    if (kc == 0 || fc != 0 || r[1] != 0) {
                        differences.add(k.name() + " (fast path stricter than the kernel)");
                    }
                    expectedMartians++;
                } else if (kc != fc || r[0] != r[1]) {
                    differences.add(k.name());
                } else if (k.martian() && kc == 0) {
                    expectedMartians++;
                }
            }
            Map<String, int[]> perMixKind = new TreeMap<>();
            for (int seq = 0; seq < mixKinds.size(); seq++) {
                int kc = kernelEcho.count(seq);
                int fc = fastEcho.count(seq);
                int[] c = perMixKind.computeIfAbsent(mixKinds.get(seq), x -> new int[3]);
                c[0]++;
                c[1] += kc;
                c[2] += fc;
                if (kc != fc) {
                    differences.add("mix #" + seq + " " + mixKinds.get(seq) + " kernel " + kc + " fast " + fc);
                }
            }
            report.append("  hostile mix: kind -> sent, kernel delivered, fast delivered\n");
            perMixKind.forEach((kind, c) -> report.append(String.format("    %-30s %5d %5d %5d%n", kind, c[0], c[1], c[2])));
            long martians = fast.metrics().drops().getOrDefault(DropReason.MARTIAN_SOURCE, 0L) - martiansBefore;
            report.append("  fast server: ").append(fast.metrics()).append('\n');
            report.append("  datagrams read: kernel ").append(kernelEcho.total).append(", fast ").append(fastEcho.total);
            System.out.println(report);

            assertEquals(List.of(), differences.subList(0, Math.min(differences.size(), 40)), report.toString());
            assertTrue(expectedMartians > 0, "the kernel dropped some martian sources\n" + report);
            assertEquals(expectedMartians, martians, "martian frames counted as MARTIAN_SOURCE\n" + report);
            // no echo loop: the fast server read no more datagrams than the kernel server
            assertTrue(fastEcho.total.get() <= kernelEcho.total.get(), "datagrams read\n" + report);
        } finally {
            kernel.close().sync();
            fast.close().sync();
        }
    }

    private static XdpDatagramChannel server(boolean v4, XdpAttachMode mode, boolean fastPath, String ifname,
                                             ChannelHandler handler) throws Exception {
        SocketProtocolFamily family = v4 ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        InetAddress any = InetAddress.getByAddress(new byte[v4 ? 4 : 16]);
        return (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channelFactory(() -> new XdpDatagramChannel(family))
                .option(io.netty.channel.ChannelOption.SO_RCVBUF, 4 << 20) // both servers keep up with the mix
                .option(XdpChannelOption.FAST_PATH, fastPath)
                .option(XdpChannelOption.INTERFACE, ifname)
                .option(XdpChannelOption.XDP_MODE, mode)
                .handler(handler)
                .bind(new InetSocketAddress(any, 0)).sync().channel();
    }

    /** Waits until neither server has read anything for 3 ms (at most 300 ms). */
    private static void settle(CountingEcho a, CountingEcho b) throws InterruptedException {
        long last = -1;
        long deadline = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < deadline) {
            long now = a.total.get() + b.total.get();
            if (now == last) {
                return;
            }
            last = now;
            Thread.sleep(3);
        }
    }

    /** Waits until neither server has read anything for 500 ms (at most 10 s). */
    private static void awaitQuiet(CountingEcho a, CountingEcho b) throws InterruptedException {
        long last = -1;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            long now = a.total.get() + b.total.get();
            if (now == last) {
                return;
            }
            last = now;
            Thread.sleep(500);
        }
    }

    static byte[] payload(int seq) {
        return ByteBuffer.allocate(24).putInt(MAGIC).putInt(seq).array();
    }

    static InetAddress withLastByte(InetAddress a, int last) {
        byte[] b = a.getAddress();
        b[b.length - 1] = (byte) last;
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] ip(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A UDP frame from {@code src:sport} to {@code dst:port} (family from the address length), correct checksums. */
    static byte[] udpFrame(byte[] dstMac, byte[] srcMac, byte[] src, int sport, byte[] dst, int port, byte[] payload) {
        byte[] u = Frames.udpChecksum(Frames.udp(sport, port, payload), src, dst);
        if (src.length == 4) {
            return Frames.eth(dstMac, srcMac, ETH_IPV4, Frames.ipv4(src, dst, UDP, 1, 0x4000, new byte[0], u));
        }
        return Frames.eth(dstMac, srcMac, ETH_IPV6, Frames.ipv6(src, dst, UDP, u));
    }

    private static List<Kind> kinds(boolean v4, byte[] hostMac, byte[] peerMac, InetAddress host, InetAddress host2,
                                    InetAddress peer, VethPair pair) {
        byte[] h = host.getAddress();
        byte[] h2 = host2.getAddress();
        byte[] p = peer.getAddress();
        byte[] bcastMac = {-1, -1, -1, -1, -1, -1};
        byte[] otherMac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
        List<Kind> k = new ArrayList<>();
        k.add(new Kind("valid", false, (port, pl) -> udpFrame(hostMac, peerMac, p, SOURCE_PORT, h, port, pl)));
        k.add(new Kind("to another local address", false,
                (port, pl) -> udpFrame(hostMac, peerMac, p, SOURCE_PORT, h2, port, pl)));
        // Linux delivers IPv6 datagrams from its own addresses (an echo server answers itself)
        k.add(new Kind("spoofed own address and port (echo loop)", true, !v4,
                (port, pl) -> udpFrame(hostMac, peerMac, h, port, h, port, pl)));
        k.add(new Kind("spoofed own address, other port", true, !v4,
                (port, pl) -> udpFrame(hostMac, peerMac, h, SOURCE_PORT, h, port, pl)));
        k.add(new Kind("spoofed other own address", true, !v4,
                (port, pl) -> udpFrame(hostMac, peerMac, h2, SOURCE_PORT, h, port, pl)));
        k.add(new Kind("other host's MAC", false, (port, pl) -> udpFrame(otherMac, peerMac, p, SOURCE_PORT, h, port, pl)));
        k.add(new Kind("not a local destination", false, (port, pl) -> udpFrame(hostMac, peerMac, p, SOURCE_PORT,
                withLastByte(host, 77).getAddress(), port, pl)));
        k.add(new Kind("VLAN 7 the host does not have", false, (port, pl) -> {
            byte[] f = udpFrame(hostMac, peerMac, p, SOURCE_PORT, h, port, pl);
            return Frames.ethTagged(hostMac, peerMac, ETH_VLAN, v4 ? ETH_IPV4 : ETH_IPV6, Frames.slice(f, 14, f.length));
        }));
        if (v4) {
            byte[] p6 = pair.peerV6().getAddress();
            byte[] h6 = pair.hostV6().getAddress();
            k.add(new Kind("loopback source", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("127.0.0.1"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("unspecified source", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("0.0.0.0"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("multicast source", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("224.0.0.5"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("limited broadcast source", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("255.255.255.255"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("subnet broadcast source", false, (port, pl) -> udpFrame(hostMac, peerMac,
                    withLastByte(host, 255).getAddress(), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("link-local source", false, (port, pl) -> udpFrame(hostMac, peerMac, ip("169.254.7.7"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("0.0.0.0/8 source 0.1.2.3 (unicast since Linux 5.3)", false, (port, pl) -> udpFrame(hostMac, peerMac, ip("0.1.2.3"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("broadcast MAC, unicast destination", false, (port, pl) -> udpFrame(bcastMac, peerMac, p, SOURCE_PORT, h, port, pl)));
            k.add(new Kind("multicast MAC, unicast destination", false, (port, pl) -> udpFrame(
                    new byte[] {0x01, 0, 0x5e, 0, 0, 5}, peerMac, p, SOURCE_PORT, h, port, pl)));
            k.add(new Kind("subnet broadcast destination", false, (port, pl) -> udpFrame(bcastMac, peerMac, p, SOURCE_PORT,
                    withLastByte(host, 255).getAddress(), port, pl)));
            k.add(new Kind("loopback destination", false, (port, pl) -> udpFrame(hostMac, peerMac, p, SOURCE_PORT, ip("127.0.0.1"), port, pl)));
            k.add(new Kind("IPv6 frame to the IPv4 channel's port", false,
                    (port, pl) -> udpFrame(hostMac, peerMac, p6, SOURCE_PORT, h6, port, pl)));
        } else {
            byte[] p4 = pair.peerV4().getAddress();
            byte[] h4 = pair.hostV4().getAddress();
            k.add(new Kind("loopback source ::1", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("::1"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("unspecified source ::", true, true, (port, pl) -> udpFrame(hostMac, peerMac, ip("::"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("multicast source ff02::1", true, (port, pl) -> udpFrame(hostMac, peerMac, ip("ff02::1"), SOURCE_PORT, h, port, pl)));
            byte[] mapped = new byte[16];
            mapped[10] = -1;
            mapped[11] = -1;
            System.arraycopy(p4, 0, mapped, 12, 4);
            k.add(new Kind("IPv4-mapped source", true, true, (port, pl) -> udpFrame(hostMac, peerMac, mapped, SOURCE_PORT, h, port, pl)));
            k.add(new Kind("link-local source fe80::7", false, (port, pl) -> udpFrame(hostMac, peerMac, ip("fe80::7"), SOURCE_PORT, h, port, pl)));
            k.add(new Kind("multicast MAC, unicast destination", false, (port, pl) -> udpFrame(
                    new byte[] {0x33, 0x33, 0, 0, 0, 1}, peerMac, p, SOURCE_PORT, h, port, pl)));
            k.add(new Kind("loopback destination ::1", false, (port, pl) -> udpFrame(hostMac, peerMac, p, SOURCE_PORT, ip("::1"), port, pl)));
            k.add(new Kind("IPv4 frame to the dual-stack channel", false,
                    (port, pl) -> udpFrame(hostMac, peerMac, p4, SOURCE_PORT, h4, port, pl)));
        }
        return k;
    }
}
