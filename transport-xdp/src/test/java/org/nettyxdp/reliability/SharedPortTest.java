package org.nettyxdp.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.channel.XdpChannelOption;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A port shared with another process through {@code SO_REUSEADDR} (a plain python3 UDP socket in the
 * same namespace): the fast path never takes datagrams the kernel would give to the other socket. The
 * more specific bind wins, as in the kernel: a wildcard channel next to the other process's bind to
 * the address stays on its kernel socket (and logs why); a channel bound to the address next to the
 * other process's wildcard bind takes the address's datagrams, as its kernel socket would.
 */
class SharedPortTest {
    private static final int COUNT = 50;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);

    /** A python3 process holding a UDP socket bound with SO_REUSEADDR; counts what it receives. */
    static final class OtherProcess implements AutoCloseable {
        final Process process;
        final BufferedReader out;

        OtherProcess(String address, int port) throws Exception {
            String script = String.join("\n",
                    "import socket, sys",
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                    "s.bind(('" + address + "', " + port + "))",
                    "print('ready', flush=True)",
                    "s.settimeout(8)",
                    "n = 0",
                    "try:",
                    "    while True:",
                    "        s.recv(2048)",
                    "        n += 1",
                    "        s.settimeout(1.5)",
                    "except socket.timeout:",
                    "    pass",
                    "print(n, flush=True)");
            process = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("ready", line, "python3 bound " + address + ":" + port);
        }

        /** Datagrams received before a 1.5 s silence after the first (8 s without any: 0). */
        int received() throws Exception {
            String line = out.readLine();
            assertTrue(process.waitFor(10, TimeUnit.SECONDS));
            return Integer.parseInt(line.trim());
        }

        @Override
        public void close() {
            process.destroy();
        }
    }

    static final class Counter extends SimpleChannelInboundHandler<DatagramPacket> {
        final AtomicInteger n = new AtomicInteger();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
            n.incrementAndGet();
        }
    }

    @Test
    void wildcardChannelLeavesAMoreSpecificBindOfAnotherProcessToTheKernel() throws Exception {
        assumePython();
        VethPair pair = HOSTS.vethPair(1);
        int port = freePort(pair.hostV4());
        try (OtherProcess other = new OtherProcess(pair.hostV4().getHostAddress(), port)) {
            Counter counter = new Counter();
            XdpDatagramChannel ch = bind(pair, new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port), counter);
            try {
                assertFalse(ch.isFastPathActive(), "the other process's bind to the address is more specific");
                send(pair, new InetSocketAddress(pair.hostV4(), port));
                assertEquals(COUNT, other.received(), "every datagram reached the other process, as the kernel decides");
                assertEquals(0, counter.n.get());
            } finally {
                ch.close().sync();
            }
        }
    }

    @Test
    void channelBoundToTheAddressWinsOverAnotherProcesssWildcardBind() throws Exception {
        assumePython();
        VethPair pair = HOSTS.vethPair(1);
        int port = freePort(pair.hostV4());
        try (OtherProcess other = new OtherProcess("0.0.0.0", port)) {
            Counter counter = new Counter();
            XdpDatagramChannel ch = bind(pair, new InetSocketAddress(pair.hostV4(), port), counter);
            try {
                assertTrue(ch.isFastPathActive(), "our bind to the address is the more specific one");
                send(pair, new InetSocketAddress(pair.hostV4(), port));
                assertEquals(0, other.received(), "the kernel gives the address's datagrams to the specific bind");
                long deadline = System.nanoTime() + 2_000_000_000L;
                while (counter.n.get() < COUNT && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertEquals(COUNT, counter.n.get());
            } finally {
                ch.close().sync();
            }
        }
    }

    private static XdpDatagramChannel bind(VethPair pair, InetSocketAddress local, Counter counter) throws Exception {
        // an IPv4 channel: a dual-stack one would keep IPv6 on the fast path, which the other socket does not share
        return (XdpDatagramChannel) new Bootstrap().group(LOOPS.group())
                .channelFactory(() -> new XdpDatagramChannel(io.netty.channel.socket.SocketProtocolFamily.INET))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(XdpChannelOption.INTERFACE, pair.hostIf())
                .handler(counter)
                .bind(local).sync().channel();
    }

    private static void send(VethPair pair, InetSocketAddress to) throws Exception {
        pair.peer().call(() -> {
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0))) {
                byte[] payload = "shared".getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < COUNT; i++) {
                    s.send(new java.net.DatagramPacket(payload, payload.length, to));
                    Thread.sleep(1);
                }
            }
            return null;
        });
    }

    private static int freePort(InetAddress address) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0))) {
            return s.getLocalPort();
        }
    }

    private static void assumePython() {
        Assumptions.assumeTrue(Shell.tryRun("python3 -c pass").exitCode() == 0,
                "needs python3 for the second process");
    }
}
