package org.nettyxdp.socket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.sys.Errno;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.lang.foreign.MemorySegment;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XdpSocketTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    @Test
    void transmitsAFrameThatAKernelSocketInThePeerReceives() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        byte[] hostMac = mac(Shell.run("cat /sys/class/net/" + pair.hostIf() + "/address"));
        byte[] peerMac = mac(pair.peer().exec("cat /sys/class/net/" + pair.peerIf() + "/address"));
        try (DatagramSocket receiver = pair.peer().call(() -> new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0)));
             Umem umem = Umem.allocate(UmemConfig.DEFAULT);
             XdpSocket xsk = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem)) {
            assertFalse(xsk.isZeroCopy(), "veth has no zero-copy support; the kernel falls back to copy mode");
            receiver.setSoTimeout(5000);
            byte[] payload = "hello from AF_XDP".getBytes();
            long frame = umem.allocateFrame();
            int len = writeUdp4(umem.region().asSlice(frame), hostMac, peerMac, pair.hostV4(), pair.peerV4(),
                    4242, receiver.getLocalPort(), payload);
            assertEquals(1, xsk.tx().reserve(1));
            xsk.tx().put(0, frame, len, 0);
            xsk.tx().submit(1);
            assertEquals(0, xsk.kickTx());

            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            pair.peer().call(() -> {
                receiver.receive(p);
                return null;
            });
            assertEquals(pair.hostV4(), p.getAddress());
            assertEquals(4242, p.getPort());
            assertArrayEquals(payload, java.util.Arrays.copyOf(p.getData(), p.getLength()));

            long deadline = System.nanoTime() + 2_000_000_000L;
            int done;
            while ((done = xsk.completion().peek(16)) == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, done);
            assertEquals(frame, xsk.completion().addr(0));
            xsk.completion().release(1);
            umem.freeFrame(frame);
            assertEquals(umem.frameCount(), umem.freeFrames());
            assertEquals(0, xsk.statistics().txInvalidDescs());
        }
    }

    @Test
    void queueCanBeBoundAgainRightAfterClose() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        for (int i = 0; i < 3; i++) {
            try (Umem umem = Umem.allocate(UmemConfig.DEFAULT);
                 XdpSocket xsk = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem)) {
                assertTrue(xsk.fd() > 0);
            }
        }
    }

    @Test
    void secondSocketOnABusyQueueFailsWithAClearMessage() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        try (Umem a = Umem.allocate(UmemConfig.DEFAULT);
             XdpSocket first = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), a);
             Umem b = Umem.allocate(UmemConfig.DEFAULT)) {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), b).close());
            assertTrue(e.getMessage().contains("EBUSY") && e.getMessage().contains("already has an AF_XDP socket"),
                    e.getMessage());
            assertTrue(first.fd() > 0);
            assertTrue(e instanceof BindBusyException, "a busy queue is reported as such, to be retried: " + e);
        }
    }

    @Test
    void busyQueueWithoutWaitingFailsAtOnceAndTheSameUmemOpensOnceTheQueueIsFree() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        XdpSocketConfig cfg = XdpSocketConfig.defaults(ifindex, 0);
        try (Umem a = Umem.allocate(UmemConfig.DEFAULT); Umem b = Umem.allocate(UmemConfig.DEFAULT)) {
            XdpSocket first = XdpSocket.open(cfg, a);
            for (int i = 0; i < 2; i++) {
                BindBusyException e = assertThrows(BindBusyException.class, () -> XdpSocket.open(cfg, b, 0));
                assertEquals(Errno.EBUSY, e.errno());
                assertTrue(e.retryAfterNanos() > 0);
                assertEquals(b.frameCount(), b.freeFrames(), "a failed open leaves the UMEM's frames alone");
            }
            first.close();
            // the queue frees up once the kernel's deferred release has run: retry as a caller would,
            // one attempt at a time (bounded in attempts, not in time)
            XdpSocket second = null;
            int attempts = 0;
            while (second == null && attempts < 10_000) {
                attempts++;
                try {
                    second = XdpSocket.open(cfg, b, 0);
                } catch (BindBusyException e) {
                    LockSupport.parkNanos(e.retryAfterNanos());
                }
            }
            assertTrue(second != null, "the queue never became free again (" + attempts + " attempts)");
            System.out.println("bind after close: " + attempts + " attempt(s)");
            try (XdpSocket s = second) {
                assertTrue(s.fd() > 0);
                assertEquals(0, s.statistics().rxDropped());
            }
        }
    }

    @Test
    void negativeBusyWaitIsRejected() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        try (Umem umem = Umem.allocate(UmemConfig.DEFAULT)) {
            assertThrows(IllegalArgumentException.class,
                    () -> XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem, -1));
        }
    }

    @Test
    void socketsShareOneUmemAcrossQueuesAndOnTheSameQueue() throws Exception {
        VethPair pair = HOSTS.vethPair(2);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        try (Umem umem = Umem.allocate(UmemConfig.DEFAULT);
             XdpSocket q0 = XdpSocket.open(XdpSocketConfig.defaults(ifindex, 0), umem);
             XdpSocket q1 = XdpSocket.openShared(XdpSocketConfig.defaults(ifindex, 1), q0);
             XdpSocket q0b = XdpSocket.openShared(XdpSocketConfig.defaults(ifindex, 0), q0)) {
            assertNotEquals(q0.fill(), q1.fill(), "another queue has its own fill ring");
            assertEquals(q0.fill(), q0b.fill(), "the same queue shares the fill ring");
            assertEquals(q0.completion(), q0b.completion());
        }
    }

    @Test
    void fillRingReserveSubmitWrapsAroundTheRing() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        int ifindex = Syscalls.ifNameToIndex(pair.hostIf());
        XdpSocketConfig cfg = XdpSocketConfig.defaults(ifindex, 0).withRingSizes(64, 64, 64, 64);
        try (Umem umem = Umem.allocate(UmemConfig.DEFAULT); XdpSocket xsk = XdpSocket.open(cfg, umem)) {
            FillRing fill = xsk.fill();
            assertEquals(64, fill.free());
            assertEquals(40, fill.reserve(40));
            for (int i = 0; i < 40; i++) {
                fill.put(i, umem.allocateFrame());
            }
            fill.submit(40);
            assertEquals(24, fill.reserve(40), "only the free slots can be reserved");
            fill.submit(0);
            assertEquals(40, fill.entries());
        }
    }

    @Test
    void umemConfigRejectsBadGeometry() {
        assertThrows(IllegalArgumentException.class, () -> new UmemConfig(1000, 4096, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new UmemConfig(2048, 100, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new UmemConfig(2048, 4096, 4096, 0));
        assertThrows(IllegalArgumentException.class, () -> new UmemConfig(2048, 4096, 0, 12));
        assertThrows(IllegalArgumentException.class, () -> XdpSocketConfig.defaults(1, 0).withRingSizes(100, 64, 64, 64));
    }

    static byte[] mac(String text) {
        return HexFormat.ofDelimiter(":").parseHex(text.trim());
    }

    /** A minimal Eth/IPv4/UDP frame writer, independent of the packet layer under test elsewhere. */
    static int writeUdp4(MemorySegment f, byte[] src, byte[] dst, InetAddress srcIp, InetAddress dstIp,
                         int srcPort, int dstPort, byte[] payload) {
        var be16 = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
        MemorySegment.copy(dst, 0, f, JAVA_BYTE, 0, 6);
        MemorySegment.copy(src, 0, f, JAVA_BYTE, 6, 6);
        f.set(be16, 12, (short) 0x0800);
        int ipLen = 20 + 8 + payload.length;
        f.set(JAVA_BYTE, 14, (byte) 0x45);
        f.set(JAVA_BYTE, 15, (byte) 0);
        f.set(be16, 16, (short) ipLen);
        f.set(JAVA_INT_UNALIGNED, 18, 0);
        f.set(JAVA_BYTE, 22, (byte) 64);
        f.set(JAVA_BYTE, 23, (byte) 17);
        f.set(be16, 24, (short) 0);
        MemorySegment.copy(srcIp.getAddress(), 0, f, JAVA_BYTE, 26, 4);
        MemorySegment.copy(dstIp.getAddress(), 0, f, JAVA_BYTE, 30, 4);
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += Short.toUnsignedInt(f.get(be16, 14 + i));
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        f.set(be16, 24, (short) ~sum);
        f.set(be16, 34, (short) srcPort);
        f.set(be16, 36, (short) dstPort);
        f.set(be16, 38, (short) (8 + payload.length));
        f.set(be16, 40, (short) 0); // checksum 0: none, legal for UDP over IPv4
        MemorySegment.copy(payload, 0, f, JAVA_BYTE, 42, payload.length);
        return 42 + payload.length;
    }
}
