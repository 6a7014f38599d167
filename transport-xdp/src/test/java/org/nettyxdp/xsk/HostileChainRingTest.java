package org.nettyxdp.xsk;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.KernelRxSide;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile multi-buffer chains on a real fast path's RX ring, between valid single frames and valid
 * chains: a chain of more descriptors than the largest datagram needs, a chain whose first fragment
 * does not hold the headers, and a chain the ring ends in before its last descriptor. Each is dropped
 * and counted, every one of its frames goes back to the pool, and the valid datagrams around it
 * arrive intact (one of them over fragments of odd lengths).
 *
 * <p>The test writes these descriptors into the socket's RX ring itself, playing the kernel, because
 * no kernel this project runs on produces them end to end:
 * <ul>
 *   <li>too long: the kernel splits a packet into frames of the UMEM's receive size, and no packet
 *       it receives exceeds Ethernet, a VLAN tag, IPv6 and 64 KiB ({@link FrameChain#MAX_FRAME}), the
 *       bound the socket takes chains up to (also with a UMEM headroom, which {@code MultiBufferTest}
 *       covers with real traffic);
 *   <li>cut off: before writing a chain's first descriptor the kernel checks the RX ring has room for
 *       all of them and the fill ring frames for all of them, and publishes them with one producer
 *       update, so a chain is never seen in part;
 *   <li>first fragment without headers: in copy mode (generic XDP, and native XDP on veth) the kernel
 *       copies the packet into frames it fills completely, so the first holds at least 1 792 bytes
 *       (448 with the largest headroom), whatever an XDP program did with
 *       {@code bpf_xdp_adjust_head} or {@code bpf_xdp_adjust_tail}; only a zero-copy driver hands its
 *       own buffers over, and none runs on veth.
 * </ul>
 * Chains between single frames, truncated datagrams and bad lengths and checksums in later fragments
 * do come from a real kernel: {@code HostileFramesTest} sends them over a veth pair.
 */
class HostileChainRingTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int FRAME = 2048;
    private static final int CAPACITY = FRAME - XdpPacket.XDP_PACKET_HEADROOM;
    private static final int PORT = 40001;
    private static final int PEER_PORT = 5353;
    private static final long PEER_MAC = 0x02_00_00_00_00_01L;

    @Test
    void hostileChainsAreDroppedCountedAndEveryFrameReturned() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        LinkInfo link = pair.hostLink();
        XdpFastPath fp = XdpFastPath.open(link, new InetSocketAddress(pair.hostV4(), PORT), pair.hostV4(),
                TestSettings.generic(FRAME, 256, RxChecksumPolicy.VERIFY));
        try {
            assertTrue(fp.isMultiBuffer(), "multi-buffer on " + pair.hostIf());
            QueueSocket qs = fp.queueForTest(0);
            FrameAccounting start = fp.accounting()[0];
            assertTrue(start.balanced(), start.toString());
            int maxFragments = (FrameChain.MAX_FRAME + CAPACITY - 1) / CAPACITY;

            Random random = new Random(16);
            int hostIp = XdpFastPath.toInt(pair.hostV4().getAddress());
            int peerIp = XdpFastPath.toInt(pair.peerV4().getAddress());
            UdpFrameWriter writer = new UdpFrameWriter(PEER_PORT, peerIp, null, PEER_MAC);
            NextHops.Hop toHost = new NextHops.Hop(link.mac().toLong(), pair.hostV4().getAddress(),
                    pair.peerV4().getAddress(), hostIp, peerIp);
            Ring ring = new Ring(qs);
            List<byte[]> expected = new ArrayList<>();

            expected.add(ring.put(writer, toHost, random, 100, true, 142));
            expected.add(ring.put(writer, toHost, random, 3000, true, CAPACITY, 1250));
            // one descriptor more than the largest datagram needs
            int[] tooLong = new int[maxFragments + 1];
            Arrays.fill(tooLong, 100);
            ring.put(writer, toHost, random, tooLong.length * 100 - 42, true, tooLong);
            expected.add(ring.put(writer, toHost, random, 200, true, 242));
            // the headers run on into the second fragment
            ring.put(writer, toHost, random, 3000, true, 20, CAPACITY, 1230);
            // fragments of odd lengths, as zero-copy drivers may choose them
            expected.add(ring.put(writer, toHost, random, 5000, true, 1001, CAPACITY, CAPACITY, 457));
            // the ring ends before the chain does
            ring.put(writer, toHost, random, 3000, false, CAPACITY, 1250);
            ring.publish();

            List<byte[]> received = new ArrayList<>();
            int[] composites = new int[1];
            XdpFastPath.DatagramSink sink = packet -> {
                composites[0] += packet.content() instanceof CompositeByteBuf ? 1 : 0;
                received.add(ByteBufUtil.getBytes(packet.content()));
                packet.release();
                return true;
            };
            // the batch stops before the open chain; the next one finds the ring ending in it
            for (int calls = 0; calls < 10 && fp.receive(0, 64, sink) > 0; calls++) {
                assertTrue(calls < 9, "the ring empties");
            }
            assertEquals(expected.size(), received.size(), "the valid datagrams");
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), received.get(i), "datagram " + i);
            }
            assertEquals(2, composites[0], "the valid chains arrive as composites");
            FastPathCounters c = fp.counters();
            assertEquals(2, c.drops(DropReason.MULTI_BUFFER), "the chain too long and the one cut off");
            assertEquals(1, c.drops(DropReason.TRUNCATED), "the chain without headers in its first frame");
            for (DropReason r : DropReason.values()) {
                if (r != DropReason.MULTI_BUFFER && r != DropReason.TRUNCATED) {
                    assertEquals(0, c.drops(r), r.toString());
                }
            }
            FrameAccounting end = fp.accounting()[0];
            assertTrue(end.balanced(), end.toString());
            assertEquals(0, end.application(), end.toString());
            assertEquals(start.kernelRx(), end.kernelRx(), "every frame the test gave the kernel came back: " + end);
        } finally {
            fp.close();
        }
    }

    /** Descriptors being written into the RX ring as the kernel would, over frames taken from the pool. */
    private static final class Ring {
        private final QueueSocket qs;
        private final UmemFramePool pool;
        private final MemorySegment region;
        private final long[] addrs = new long[64];
        private final int[] lens = new int[64];
        private final int[] options = new int[64];
        private int n;

        Ring(QueueSocket qs) {
            this.qs = qs;
            this.pool = qs.pool;
            this.region = qs.region();
        }

        /**
         * Queues a UDP datagram of {@code payload} random bytes to the channel as one packet over
         * fragments of {@code fragments} bytes (which must add up to the frame), the last one ending the
         * chain if {@code terminated}; returns the payload.
         */
        byte[] put(UdpFrameWriter writer, NextHops.Hop hop, Random random, int payload, boolean terminated,
                   int... fragments) {
            byte[] data = new byte[payload];
            random.nextBytes(data);
            int total = UdpFrameWriter.IPV4_HEADERS + payload;
            assertEquals(total, Arrays.stream(fragments).sum(), "fragments of the " + total + "-byte frame");
            MemorySegment packet = MemorySegment.ofArray(new byte[total]);
            MemorySegment.copy(MemorySegment.ofArray(data), 0, packet, UdpFrameWriter.IPV4_HEADERS, payload);
            FrameChain whole = new FrameChain(total);
            whole.add(0, total);
            writer.write(packet, 0, true, hop, PORT, payload, 0, whole);

            long[] frames = new long[fragments.length];
            assertEquals(frames.length, pool.takeForReceive(frames, frames.length), "free frames");
            long from = 0;
            for (int i = 0; i < fragments.length; i++) {
                long addr = frames[i] + XdpPacket.XDP_PACKET_HEADROOM;
                MemorySegment.copy(packet, from, region, addr, fragments[i]);
                from += fragments[i];
                addrs[n] = addr;
                lens[n] = fragments[i];
                options[n] = i < fragments.length - 1 || !terminated ? XdpPacket.XDP_PKT_CONTD : 0;
                n++;
            }
            return data;
        }

        void publish() {
            KernelRxSide.produce(qs.xsk.rx(), addrs, lens, options, n);
        }
    }
}
