package org.nettyxdp.bpf;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nettyxdp.sys.Syscalls;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The programs attached to a real veth, with traffic sent from the peer namespace. The steering
 * program is loaded with fallback DROP and no sockets, so datagrams to the steered port vanish while
 * other ports, ARP and neighbour discovery keep reaching the kernel.
 */
class LiveSteeringTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int COUNT = 20;

    @ParameterizedTest
    @EnumSource(value = XdpMode.class, names = {"SKB", "DRV"})
    void steeredPortIsTakenOtherPortsReachTheKernel(XdpMode mode) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        byte[] mac = hostMac(pair);
        try (PortMap ports = PortMap.create("nx_live_ports", 8);
             LocalAddressMap locals = LocalAddressMap.create("nx_live_local", 8);
             XskMap xsks = XskMap.create("nx_live_xsks", 1);
             BpfProgram prog = UdpSteeringProgram.load(ports, locals, xsks, 1, mac, XdpAction.DROP, false);
             XdpLink link = XdpLink.attach(prog, ifindex, mode);
             DatagramSocket steered4 = bound(pair.hostV4());
             DatagramSocket other4 = bound(pair.hostV4());
             DatagramSocket steered6 = bound(pair.hostV6());
             DatagramSocket other6 = bound(pair.hostV6())) {
            locals.add(pair.hostV4());
            locals.add(pair.hostV6());
            ports.put(steered4.getLocalPort(), pair.hostV4(), 0, 0);
            ports.put(steered6.getLocalPort(), pair.hostV6(), 0, 0);
            send(pair, pair.hostV4(), other4.getLocalPort(), steered4.getLocalPort());
            send(pair, pair.hostV6(), other6.getLocalPort(), steered6.getLocalPort());
            assertEquals(COUNT, drain(other4), "IPv4 datagrams to an unsteered port reach the kernel");
            assertEquals(COUNT, drain(other6), "IPv6 datagrams to an unsteered port reach the kernel");
            assertEquals(0, drain(steered4), "IPv4 datagrams to the steered port are taken by XDP");
            assertEquals(0, drain(steered6), "IPv6 datagrams to the steered port are taken by XDP");

            // unsteer: the port reaches the kernel again
            ports.remove(steered4.getLocalPort(), pair.hostV4());
            send(pair, pair.hostV4(), steered4.getLocalPort(), -1);
            assertEquals(COUNT, drain(steered4), "unsteered port reaches the kernel");
            assertTrue(link.fd() > 0);
        }
    }

    @Test
    void dropProgramCountsLiveFrames() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        // The drop program eats ARP too: give the peer a static neighbour entry for the host.
        String mac = Files.readString(Path.of("/sys/class/net/" + pair.hostIf() + "/address")).trim();
        pair.peer().exec("ip neigh replace " + pair.hostV4().getHostAddress() + " lladdr " + mac
                + " dev " + pair.peerIf() + " nud permanent");
        try (CounterMap counters = CounterMap.create("nx_live_drop", 1);
             BpfProgram drop = XdpDropProgram.load(counters);
             XdpLink link = XdpLink.attach(drop, ifindex, XdpMode.DRV);
             DatagramSocket sink = bound(pair.hostV4())) {
            send(pair, pair.hostV4(), sink.getLocalPort(), -1);
            assertEquals(0, drain(sink), "dropped before the stack");
            long n = counters.sum(XdpDropProgram.PACKETS);
            assertTrue(n >= COUNT && n < COUNT + 10, "counted " + n + " frames for " + COUNT + " datagrams");
            assertTrue(link.fd() > 0);
        }
    }

    private static byte[] hostMac(VethPair pair) throws IOException {
        String mac = Files.readString(Path.of("/sys/class/net/" + pair.hostIf() + "/address")).trim();
        return java.util.HexFormat.ofDelimiter(":").parseHex(mac);
    }

    private static DatagramSocket bound(InetAddress addr) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr, 0));
        s.setSoTimeout(300);
        return s;
    }

    /** Sends COUNT datagrams to each port ({@code -1}: skip) from the peer namespace. */
    private static void send(VethPair pair, InetAddress to, int portA, int portB) throws Exception {
        pair.peer().call(() -> {
            try (DatagramSocket s = new DatagramSocket()) {
                byte[] payload = "netty-xdp".getBytes();
                for (int i = 0; i < COUNT; i++) {
                    s.send(new DatagramPacket(payload, payload.length, to, portA));
                    if (portB >= 0) {
                        s.send(new DatagramPacket(payload, payload.length, to, portB));
                    }
                }
            }
            return null;
        });
    }

    /** Receives until a 300 ms silence; returns how many datagrams arrived. */
    private static int drain(DatagramSocket s) throws IOException {
        int n = 0;
        byte[] buf = new byte[2048];
        while (true) {
            try {
                s.receive(new DatagramPacket(buf, buf.length));
                n++;
            } catch (SocketTimeoutException e) {
                return n;
            }
        }
    }
}
