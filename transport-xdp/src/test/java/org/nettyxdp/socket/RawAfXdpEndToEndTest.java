package org.nettyxdp.socket;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.bpf.XdpSteering;
import org.nettyxdp.packet.Checksum;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.Ipv6Hdr;
import org.nettyxdp.packet.UdpHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.sys.Syscalls;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.lang.foreign.MemorySegment;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The foundation without Netty: the steering program sends a kernel socket's datagram from the peer
 * namespace into our AF_XDP socket, we answer by swapping the frame's addresses in place, the kernel
 * socket gets the answer, and a kernel socket on another port of the same interface is untouched.
 */
class RawAfXdpEndToEndTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    private static final int PORT = 7777;

    @ParameterizedTest(name = "{0} IPv6={1}")
    @CsvSource({"DRV, false", "DRV, true", "SKB, false", "SKB, true"})
    void kernelSocketTalksToTheXskAndOtherPortsStillReachTheKernel(XdpMode mode, boolean ipv6) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        InetAddress host = ipv6 ? pair.hostV6() : pair.hostV4();
        InetAddress peer = ipv6 ? pair.peerV6() : pair.peerV4();
        byte[] mac = java.util.HexFormat.ofDelimiter(":").parseHex(java.nio.file.Files.readString(
                java.nio.file.Path.of("/sys/class/net/" + pair.hostIf() + "/address")).trim());
        try (XdpSteering steering = XdpSteering.open(ifindex, mac, 1, 1, 4, mode, false);
             Umem umem = Umem.allocate(UmemConfig.DEFAULT);
             XdpSocket xsk = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem);
             DatagramSocket otherPort = new DatagramSocket(new InetSocketAddress(host, 0));
             DatagramSocket client = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(peer, 0)))) {
            FillRing fill = xsk.fill();
            int n = fill.reserve(1024);
            for (int i = 0; i < n; i++) {
                fill.put(i, umem.allocateFrame());
            }
            fill.submit(n);
            int slot = steering.allocateSlot();
            steering.setSocket(slot, 0, xsk.fd());
            steering.locals().add(host);
            steering.putPort(PORT, host, slot, umem.config().maxRxFrameLength());

            byte[] hello = "ping".getBytes(StandardCharsets.US_ASCII);
            pair.peer().call(() -> {
                client.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(host, PORT)));
                client.send(new DatagramPacket(hello, hello.length, otherPort.getLocalSocketAddress()));
                return null;
            });

            // RX: the frame lands in our socket
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (xsk.rx().peek(1) == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, xsk.rx().peek(1), "a frame arrived on the AF_XDP socket");
            XdpPacket packet = new XdpPacket(umem.region(), umem.config().frameSize());
            packet.resetFromDescriptor(xsk.rx().addr(0), xsk.rx().len(0), xsk.rx().options(0));
            xsk.rx().release(1);

            // reply in place: swap MACs, addresses and ports, refresh checksums
            EthHdr eth = packet.read(0, new EthHdr());
            long dstMac = eth.destinationBits();
            eth.setDestination(eth.source());
            eth.setSource(org.nettyxdp.packet.MacAddress.of(dstMac));
            UdpHdr udp;
            if (ipv6) {
                Ipv6Hdr ip = packet.read(EthHdr.LEN, new Ipv6Hdr());
                byte[] src = new byte[16];
                byte[] dst = new byte[16];
                ip.getSource(src);
                ip.getDestination(dst);
                ip.setSource(dst);
                ip.setDestination(src);
                udp = packet.read(EthHdr.LEN + Ipv6Hdr.LEN, new UdpHdr());
                swapPorts(udp);
                udp.setChecksum(0);
                udp.setChecksum(Checksum.udp(ip, udp));
            } else {
                Ipv4Hdr ip = packet.read(EthHdr.LEN, new Ipv4Hdr());
                int src = ip.source();
                ip.setSource(ip.destination());
                ip.setDestination(src);
                ip.updateChecksum();
                udp = packet.read(EthHdr.LEN + ip.headerLength(), new UdpHdr());
                swapPorts(udp);
                udp.setChecksum(0);
                udp.setChecksum(Checksum.udp(ip, udp));
            }
            assertEquals(1, xsk.tx().reserve(1));
            xsk.tx().put(0, packet.addr(), packet.len(), 0);
            xsk.tx().submit(1);
            assertEquals(0, xsk.kickTx());

            // the kernel socket in the peer namespace gets the reply from our port
            DatagramPacket reply = new DatagramPacket(new byte[64], 64);
            client.setSoTimeout(3000);
            pair.peer().call(() -> {
                client.receive(reply);
                return null;
            });
            assertEquals("ping", new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII));
            assertEquals(PORT, reply.getPort());
            assertEquals(host, reply.getAddress());

            // the other port was never steered
            DatagramPacket other = new DatagramPacket(new byte[64], 64);
            otherPort.setSoTimeout(3000);
            otherPort.receive(other);
            assertEquals("ping", new String(other.getData(), 0, other.getLength(), StandardCharsets.US_ASCII));
            assertTrue(xsk.completion().peek(1) <= 1);
        }
    }

    private static void swapPorts(UdpHdr udp) {
        int s = udp.sourcePort();
        udp.setSourcePort(udp.destinationPort());
        udp.setDestinationPort(s);
    }
}
