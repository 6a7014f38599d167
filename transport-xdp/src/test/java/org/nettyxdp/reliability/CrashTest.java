package org.nettyxdp.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.NetNs;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A process holding XDP channels dies by SIGKILL: the kernel must detach its programs (they hang on
 * bpf_link file descriptors) and free its AF_XDP sockets, so that a new process can bind the same
 * queues and ports at once. The child JVM runs in the peer namespace of a veth pair, with one channel
 * on the veth end in DRV mode and one on the namespace's own {@code lo} in SKB mode (the host's
 * {@code lo} is shared with whatever else runs on the machine), while datagrams keep arriving.
 */
class CrashTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    @Test
    void sigkilledProcessLeavesNoXdpAndItsQueuesRebindAtOnce() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        NetNs ns = pair.peer();
        List<String> inNs = List.of("ip", "netns", "exec", ns.name());
        String veth = pair.peerIf();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");

        String vethPort = "0";
        String loPort = "0";
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong flooded = new AtomicLong();
        Thread flood = null;
        try {
            for (int round = 0; round < 2; round++) {
                try (ChildJvm child = ChildJvm.start(inNs, "hold",
                        pair.peerV4().getHostAddress() + ":" + vethPort, "DRV", "127.0.0.1:" + loPort, "SKB")) {
                    long t0 = System.nanoTime();
                    String[] ready = child.await("READY", 30_000).split(" ");
                    long bindMs = (System.nanoTime() - t0) / 1_000_000;
                    assertTrue(child.output().contains("fast=true on " + veth), child.output());
                    assertTrue(child.output().contains("fast=true on lo"), child.output());
                    if (round == 0) {
                        vethPort = ready[1];
                        loPort = ready[2];
                    } else {
                        // the same ports as the killed process: its companion sockets are gone too
                        assertEquals(vethPort, ready[1]);
                        assertEquals(loPort, ready[2]);
                    }
                    assertTrue(xdpIn(ns, veth).contains("xdpdrv") || xdpIn(ns, veth).contains("prog/xdp"),
                            "attached in DRV mode: " + xdpIn(ns, veth));
                    assertTrue(xdpIn(ns, "lo").contains("xdpgeneric"), "attached in SKB mode: " + xdpIn(ns, "lo"));

                    InetSocketAddress vethTarget = new InetSocketAddress(pair.peerV4(), Integer.parseInt(vethPort));
                    InetSocketAddress loTarget = new InetSocketAddress(loopback, Integer.parseInt(loPort));
                    assertTrue(echoes(vethTarget), "echo over the veth, round " + round + ": " + child.output());
                    assertTrue(ns.call(() -> echoes(loTarget)), "echo over lo, round " + round + ": " + child.output());
                    System.out.printf("round %d: bound and serving %d ms after start%n%s%n", round, bindMs, child.output());

                    if (flood == null) {
                        flood = startFlood(vethTarget, flooding, flooded);
                    }
                    long before = flooded.get();
                    while (flooded.get() < before + 1000) {
                        Thread.sleep(1);
                    }
                    int exit = child.kill();
                    assertEquals(137, exit, "killed by SIGKILL");
                    long k0 = System.nanoTime();
                    while ((!xdpIn(ns, veth).isEmpty() || !xdpIn(ns, "lo").isEmpty())
                            && System.nanoTime() - k0 < 2_000_000_000L) {
                        Thread.sleep(5);
                    }
                    long detachMs = (System.nanoTime() - k0) / 1_000_000;
                    assertEquals("", xdpIn(ns, veth), "XDP left on " + veth + " after SIGKILL");
                    assertEquals("", xdpIn(ns, "lo"), "XDP left on lo after SIGKILL");
                    System.out.printf("round %d: programs gone %d ms after the child's death%n", round, detachMs);
                }
            }
        } finally {
            flooding.set(false);
            if (flood != null) {
                flood.join(5000);
            }
        }
    }

    /** Sends datagrams to {@code target} from this namespace until {@code on} turns false. */
    private static Thread startFlood(InetSocketAddress target, AtomicBoolean on, AtomicLong count) {
        Thread t = new Thread(() -> {
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.configureBlocking(false);
                ByteBuffer b = ByteBuffer.allocate(64);
                while (on.get()) {
                    b.clear();
                    ch.send(b, target);
                    count.incrementAndGet();
                    Thread.sleep(0, 20_000);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "flood");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** True when a datagram to {@code target} comes back (a few tries). */
    static boolean echoes(InetSocketAddress target) throws Exception {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.socket().setSoTimeout(500);
            ch.connect(target);
            for (int i = 0; i < 10; i++) {
                ch.write(ByteBuffer.wrap(("ping " + i).getBytes()));
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[64], 64);
                try {
                    ch.socket().receive(p);
                    if (new String(p.getData(), 0, p.getLength()).equals("ping " + i)) {
                        return true;
                    }
                } catch (SocketTimeoutException | java.net.PortUnreachableException e) {
                    // retry
                }
            }
            return false;
        }
    }

    /** The XDP lines of {@code ip -d link show dev name} inside {@code ns}, or "" when nothing is attached. */
    static String xdpIn(NetNs ns, String dev) {
        return xdpLines(ns.exec("ip -d link show dev " + dev));
    }

    static String xdpLines(String ipLinkOutput) {
        StringBuilder xdp = new StringBuilder();
        for (String line : ipLinkOutput.split("\n")) {
            if (line.contains("prog/xdp") || line.matches(".*\\bxdp(generic|drv|offload)?\\b.*")) {
                xdp.append(line.trim()).append(' ');
            }
        }
        return xdp.toString().trim();
    }
}
