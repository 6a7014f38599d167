package org.nettyxdp.xsk;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.testing.Shell;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A multi-buffer datagram whose content cannot be built because direct memory runs out, over a real
 * fast path on a veth pair with MTU 9000 (the kernel hands each jumbo datagram over as a chain of
 * frames): out of memory for the copy, for the composite, and in the middle of the chain (the
 * composite consolidating its components into a new direct buffer). The error propagates out of
 * {@link XdpFastPath#receive} as the single-frame copy's does (the channel then fires it and closes),
 * every frame of the chain is back in the pool, and the next datagram arrives intact: no descriptor of
 * the failed chain is read twice.
 */
class ChainAllocationFailureTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    private static final int FRAME = 2048;
    private static final int PORT = 40002;

    @Test
    void outOfMemoryForTheCopy() throws Exception {
        failsAndReturnsEveryFrame(0.0, Failure.DIRECT);
    }

    @Test
    void outOfMemoryForTheComposite() throws Exception {
        failsAndReturnsEveryFrame(1.0, Failure.COMPOSITE);
    }

    @Test
    void outOfMemoryInTheMiddleOfTheChain() throws Exception {
        failsAndReturnsEveryFrame(1.0, Failure.CONSOLIDATION);
    }

    private void failsAndReturnsEveryFrame(double copyThreshold, Failure failure) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        Shell.run("ip link set " + pair.hostIf() + " mtu 9000");
        pair.peer().exec("ip link set " + pair.peerIf() + " mtu 9000");
        pair.disablePeerChecksumOffload(); // complete checksums, verified across the fragments
        LinkInfo link = pair.hostLink();
        FailingAllocator alloc = new FailingAllocator();
        XdpFastPath fp = XdpFastPath.open(link, new InetSocketAddress(pair.hostV4(), PORT), pair.hostV4(),
                TestSettings.generic(FRAME, 256, RxChecksumPolicy.VERIFY, copyThreshold, alloc));
        try {
            assertTrue(fp.isMultiBuffer(), "multi-buffer on " + pair.hostIf());
            FrameAccounting start = fp.accounting()[0];
            assertTrue(start.balanced(), start.toString());
            Random random = new Random(failure.ordinal());

            alloc.failure = failure;
            send(pair, random, 8000);
            List<ByteBuf> received = new ArrayList<>();
            OutOfMemoryError error = null;
            try {
                receive(fp, received);
                fail("the allocator failed, yet " + received.size() + " datagrams arrived");
            } catch (OutOfMemoryError e) {
                error = e;
            }
            assertSame(FailingAllocator.ERROR, error);
            assertEquals(1, alloc.failures, "the allocator failed once");
            FrameAccounting failed = fp.accounting()[0];
            assertEquals(start, failed, "every frame of the chain back, the fill ring refilled");

            alloc.failure = null;
            byte[] next = send(pair, random, 7000);
            receive(fp, received);
            assertEquals(1, received.size(), "one datagram: no descriptor of the failed chain read again");
            ByteBuf content = received.get(0);
            try {
                if (copyThreshold > 0) {
                    assertInstanceOf(CompositeByteBuf.class, content);
                }
                assertArrayEquals(next, ByteBufUtil.getBytes(content), "the next datagram arrives intact");
            } finally {
                content.release();
            }
            assertEquals(0, fp.counters().drops(DropReason.INVALID_DESCRIPTOR), "no descriptor read twice");
            assertEquals(start, fp.accounting()[0]);
        } finally {
            fp.close();
        }
    }

    private static byte[] send(VethPair pair, Random random, int size) throws Exception {
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        InetSocketAddress target = new InetSocketAddress(pair.hostV4(), PORT);
        pair.peer().call(() -> {
            try (DatagramChannel client = DatagramChannel.open()) {
                client.bind(new InetSocketAddress(pair.peerV4(), 0));
                client.send(ByteBuffer.wrap(payload), target);
            }
            return null;
        });
        return payload;
    }

    /** Receives until a datagram arrives or receiving throws; ten seconds at most. */
    private static void receive(XdpFastPath fp, List<ByteBuf> received) throws InterruptedException {
        int before = received.size();
        XdpFastPath.DatagramSink sink = packet -> {
            received.add(packet.content());
            return true;
        };
        for (long deadline = System.nanoTime() + 10_000_000_000L; received.size() == before; ) {
            if (fp.receive(0, 64, sink) == 0) {
                assertTrue(System.nanoTime() < deadline, () -> "a datagram within 10 s; " + describe(fp));
                Thread.sleep(5);
            }
        }
    }

    private static String describe(XdpFastPath fp) {
        StringBuilder b = new StringBuilder("received ").append(fp.counters().rxPackets()).append(", dropped");
        for (DropReason r : DropReason.values()) {
            if (fp.counters().drops(r) != 0) {
                b.append(' ').append(r).append('=').append(fp.counters().drops(r));
            }
        }
        return b.append("; ").append(fp.statistics()).append("; ").append(fp.accounting()[0]).toString();
    }

    enum Failure {
        /** {@code directBuffer} fails: the copy's target. */
        DIRECT,
        /** {@code compositeDirectBuffer} fails. */
        COMPOSITE,
        /**
         * The composite holds one component at most, so adding the second consolidates the first two into
         * a new direct buffer, and that allocation fails.
         */
        CONSOLIDATION
    }

    /** Unpooled buffers, failing as the JDK does when direct memory runs out while {@link #failure} says so. */
    private static final class FailingAllocator extends AbstractByteBufAllocator {
        static final OutOfMemoryError ERROR = new OutOfMemoryError("Cannot reserve direct buffer memory (test)");
        volatile Failure failure;
        volatile int failures;

        FailingAllocator() {
            super(true);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            if (failure == Failure.DIRECT || failure == Failure.CONSOLIDATION) {
                failures++;
                throw ERROR;
            }
            return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
            if (failure == Failure.COMPOSITE) {
                failures++;
                throw ERROR;
            }
            return new CompositeByteBuf(this, true, failure == Failure.CONSOLIDATION ? 1 : maxNumComponents);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }
}
