package org.nettyxdp.examples;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Netty's {@link DnsNameResolver} over the XDP transport against a real DNS server, dnsmasq from
 * Debian's dnsmasq-base, serving 1 000+ names in the peer namespace of a veth test host. The
 * resolver's channel is bound to the veth's address, so its answers arrive on the fast path; they
 * carry compressed names (pointers from the message's first byte), which Netty's decoder follows.
 * The same test on NIO is the reference. Root only.
 */
class DnsNameResolverTest {
    private static final int NAMES = 1000;
    private static final int IN_FLIGHT = 50;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    private static String dnsmasq;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        dnsmasq = DebianTool.require("dnsmasq", "dnsmasq-base");
    }

    @ParameterizedTest(name = "resolver on {0}")
    @ValueSource(strings = {"XDP", "NIO"})
    void resolvesAThousandNamesFromDnsmasq(String transport) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Map<String, List<InetAddress>> hosts = hosts();
        Process server = startDnsmasq(pair, hosts);
        boolean xdp = transport.equals("XDP");
        EventLoopGroup nio = xdp ? null : new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoop loop = xdp ? LOOPS.group().next() : nio.next();
        List<DatagramChannel> channels = new CopyOnWriteArrayList<>();
        // as datagramChannelType(XdpDatagramChannel.class) would, keeping each channel for its metrics
        DnsNameResolver resolver = new DnsNameResolverBuilder(loop)
                .datagramChannelFactory(() -> {
                    DatagramChannel ch = xdp ? new XdpDatagramChannel() : new NioDatagramChannel();
                    channels.add(ch);
                    return ch;
                })
                .localAddress(new InetSocketAddress(pair.hostV4(), 0))
                .nameServerProvider(new SingletonDnsServerAddressStreamProvider(new InetSocketAddress(pair.peerV4(), 53)))
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .resolveCache(NoopDnsCache.INSTANCE)
                .searchDomains(List.of())
                .queryTimeoutMillis(3000)
                .build();
        try {
            List<String> names = new ArrayList<>(hosts.keySet());
            // the first query leaves through the kernel socket, which resolves the server's MAC address
            assertEquals(hosts.get(names.get(0)), resolver.resolveAll(names.get(0)).get(5, TimeUnit.SECONDS));
            long warmSlow = channels.get(0) instanceof XdpDatagramChannel ch ? ch.metrics().txSlowPackets() : 0;
            int resolved = 1;
            for (int from = 1; from < names.size(); from += IN_FLIGHT) {
                List<String> batch = names.subList(from, Math.min(names.size(), from + IN_FLIGHT));
                List<Future<List<InetAddress>>> futures = new ArrayList<>();
                for (String name : batch) {
                    futures.add(resolver.resolveAll(name));
                }
                for (int i = 0; i < batch.size(); i++) {
                    Future<List<InetAddress>> f = futures.get(i).await();
                    assertTrue(f.isSuccess(), batch.get(i) + ": " + f.cause());
                    assertEquals(new HashSet<>(hosts.get(batch.get(i))), new HashSet<>(f.getNow()), batch.get(i));
                    resolved++;
                }
            }
            assertEquals(hosts.size(), resolved);
            assertTrue(resolved >= NAMES);

            assertEquals(1, channels.size(), "one channel per resolver");
            if (channels.get(0) instanceof XdpDatagramChannel ch) {
                assertTrue(ch.isFastPathActive(), Cli.fastPathSummary(ch));
                int n = resolved;
                // the loop counts a batch once its pipeline is done with it, after the last future completed
                XdpChannelMetrics m = XdpEchoServerTest.awaitMetrics(ch, x -> x.rxFastPackets() + x.rxSlowPackets() == n);
                System.out.println("resolver channel after " + resolved + " names: " + m);
                assertEquals(resolved, m.rxFastPackets(), "every answer arrived on the fast path: " + m);
                assertEquals(resolved, m.txFastPackets() + m.txSlowPackets(), m.toString());
                assertEquals(warmSlow, m.txSlowPackets(), "once the neighbour is known, every query leaves on the fast path: " + m);
                assertEquals(0, m.rxCopied(), "every answer reached the decoder in its UMEM frame: " + m);
                assertEquals(0, m.dropped(), m.toString());
                for (FrameAccounting a : ch.frameAccounting()) {
                    assertEquals(0, a.application(), "frames still held: " + a);
                }
            }
        } finally {
            resolver.close();
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
            if (nio != null) {
                nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }

    /**
     * 1 000 names with one address each, 20 with three (dnsmasq answers all three in one message,
     * each record's name a pointer), and one name in capitals.
     */
    private static Map<String, List<InetAddress>> hosts() throws IOException {
        Map<String, List<InetAddress>> hosts = new LinkedHashMap<>();
        for (int i = 0; i < NAMES; i++) {
            hosts.put("host" + i + ".apps.test", List.of(InetAddress.getByAddress(new byte[] {(byte) 198, 18,
                    (byte) (i >> 8), (byte) i})));
        }
        for (int i = 0; i < 20; i++) {
            hosts.put("multi" + i + ".apps.test", List.of(InetAddress.getByAddress(new byte[] {(byte) 198, 19, (byte) i, 1}),
                    InetAddress.getByAddress(new byte[] {(byte) 198, 19, (byte) i, 2}),
                    InetAddress.getByAddress(new byte[] {(byte) 198, 19, (byte) i, 3})));
        }
        hosts.put("UPPER.apps.test", List.of(InetAddress.ofLiteral("198.19.200.1")));
        return hosts;
    }

    /** dnsmasq in the peer namespace, authoritative for {@code hosts} only, answering on the peer's address. */
    private Process startDnsmasq(VethPair pair, Map<String, List<InetAddress>> hosts) throws Exception {
        Path hostsFile = dir.resolve("hosts");
        List<String> lines = new ArrayList<>();
        hosts.forEach((name, addresses) -> addresses.forEach(a -> lines.add(a.getHostAddress() + " " + name)));
        Files.write(hostsFile, lines);
        // dnsmasq drops root and reads the file as nobody
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(hostsFile, PosixFilePermissions.fromString("rw-r--r--"));
        File log = dir.resolve("dnsmasq.log").toFile();
        Process p = new ProcessBuilder("ip", "netns", "exec", pair.peer().name(), dnsmasq,
                "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hostsFile, "--bind-interfaces", "--listen-address=" + pair.peerV4().getHostAddress(),
                "--port=53", "--local-ttl=300", "--pid-file=" + dir.resolve("dnsmasq.pid"))
                .redirectErrorStream(true).redirectOutput(log).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = Files.readString(log.toPath());
            if (out.contains("addresses") || out.contains("names") || !p.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        assertTrue(p.isAlive(), "dnsmasq exited: " + out);
        assertTrue(out.contains(hostsFile + " - " + lines.size() + " names")
                || out.contains(hostsFile + " - " + lines.size() + " addresses"), "dnsmasq read the hosts file: " + out);
        assertNotNull(p);
        return p;
    }
}
