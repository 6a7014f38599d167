package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.Test;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.packet.Checksum;
import org.nettyxdp.packet.XdpPacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A multi-buffer chain over real frames of a pool (native memory, no socket): the checksum across
 * fragments of any length, the payload as a composite of the frames or as a copy, every frame back
 * on release.
 */
class FrameChainTest {
    private static final int FRAME_SIZE = 2048;
    private static final int CAPACITY = FRAME_SIZE - XdpPacket.XDP_PACKET_HEADROOM;

    @Test
    void sumAcrossFragmentsOfOddLengthsEqualsTheContiguousSum() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(16 * FRAME_SIZE, 4096);
            Random random = new Random(1);
            for (int round = 0; round < 200; round++) {
                int total = 1 + random.nextInt(5000);
                byte[] bytes = new byte[total];
                random.nextBytes(bytes);
                MemorySegment contiguous = arena.allocate(total + 8);
                MemorySegment.copy(bytes, 0, contiguous, ValueLayout.JAVA_BYTE, 0, total);
                FrameChain chain = new FrameChain(CAPACITY);
                int at = 0;
                for (int frame = 0; at < total; frame++) {
                    int len = Math.min(total - at, 401 + random.nextInt(CAPACITY - 400));
                    long data = (long) frame * FRAME_SIZE + XdpPacket.XDP_PACKET_HEADROOM;
                    MemorySegment.copy(bytes, at, region, ValueLayout.JAVA_BYTE, data, len);
                    assertTrue(chain.add(data, len));
                    at += len;
                }
                int start = random.nextInt(Math.min(total, chain.len(0)));
                long length = total - start;
                assertEquals(Checksum.sum(contiguous, start, length), chain.sum(region, chain.addr(0) + start, length),
                        "round " + round + ": " + chain.count() + " fragments");
            }
        }
    }

    @Test
    void sumRefusesToRunPastTheChain() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(2 * FRAME_SIZE, 4096);
            FrameChain chain = new FrameChain(CAPACITY);
            chain.add(XdpPacket.XDP_PACKET_HEADROOM, 100);
            chain.add(FRAME_SIZE + XdpPacket.XDP_PACKET_HEADROOM, 100);
            assertThrows(IndexOutOfBoundsException.class, () -> chain.sum(region, XdpPacket.XDP_PACKET_HEADROOM, 201));
            assertThrows(IndexOutOfBoundsException.class, () -> chain.sum(region, 0, 10));
        }
    }

    @Test
    void chainLengthIsBoundedByTheLargestFrame() {
        FrameChain chain = new FrameChain(CAPACITY);
        assertEquals((FrameChain.MAX_FRAME + CAPACITY - 1) / CAPACITY, chain.maxFragments());
        for (int i = 0; i < chain.maxFragments(); i++) {
            assertTrue(chain.add((long) i * FRAME_SIZE + XdpPacket.XDP_PACKET_HEADROOM, CAPACITY));
        }
        assertFalse(chain.add(0, 1), "one fragment more than any datagram needs");
    }

    @Test
    void payloadIsACompositeOfTheFramesOrACopyAndEveryFrameComesBack() {
        for (boolean copy : new boolean[] {false, true}) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment region = arena.allocate(16 * FRAME_SIZE, 4096);
                UmemFramePool pool = new UmemFramePool(region, FRAME_SIZE, ByteBufAllocator.DEFAULT);
                long[] addrs = new long[5];
                assertEquals(5, pool.takeForReceive(addrs, 5));
                int headers = 42;
                byte[] payload = new byte[headers == 0 ? 0 : 4 * CAPACITY + 77 - headers];
                new Random(2).nextBytes(payload);
                FrameChain chain = new FrameChain(CAPACITY);
                int at = 0;
                for (int i = 0; i < 5; i++) {
                    long data = addrs[i] + XdpPacket.XDP_PACKET_HEADROOM;
                    int offset = i == 0 ? headers : 0;
                    int n = Math.min(CAPACITY - offset, payload.length - at);
                    MemorySegment.copy(payload, at, region, ValueLayout.JAVA_BYTE, data + offset, n);
                    assertEquals(i, pool.takeReceived(data, offset + n), "off the RX ring");
                    chain.add(data, offset + n);
                    at += n;
                }
                assertEquals(payload.length, at);
                ByteBuf content = FrameChainContent.build(chain, pool, FRAME_SIZE, headers, payload.length, copy,
                        ByteBufAllocator.DEFAULT);
                try {
                    assertEquals(0, content.readerIndex(), "index 0 is the first payload byte");
                    assertEquals(payload.length, content.readableBytes());
                    byte[] read = new byte[payload.length];
                    content.getBytes(0, read);
                    assertArrayEquals(payload, read);
                    if (copy) {
                        assertFalse(content instanceof CompositeByteBuf);
                        assertEquals(0, pool.applicationFrames(), "a copy holds no frame");
                    } else {
                        assertInstanceOf(CompositeByteBuf.class, content);
                        assertEquals(5, ((CompositeByteBuf) content).numComponents());
                        assertEquals(5, pool.applicationFrames());
                    }
                } finally {
                    content.release();
                }
                FrameAccounting a = pool.accounting();
                assertEquals(0, pool.applicationFrames(), a.toString());
                assertEquals(16, a.free(), a.toString());
                assertTrue(a.balanced(), a.toString());
            }
        }
    }

    @Test
    void bytesPastThePayloadAndEmptyFramesGoBackAtOnce() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment region = arena.allocate(8 * FRAME_SIZE, 4096);
            UmemFramePool pool = new UmemFramePool(region, FRAME_SIZE, ByteBufAllocator.DEFAULT);
            long[] addrs = new long[3];
            assertEquals(3, pool.takeForReceive(addrs, 3));
            FrameChain chain = new FrameChain(CAPACITY);
            for (long addr : addrs) {
                assertTrue(pool.takeReceived(addr + XdpPacket.XDP_PACKET_HEADROOM, CAPACITY) >= 0, "off the RX ring");
                chain.add(addr + XdpPacket.XDP_PACKET_HEADROOM, CAPACITY);
            }
            // a payload that ends in the second frame: the third holds only padding
            int payload = 2 * CAPACITY - 42 - 10;
            ByteBuf content = FrameChainContent.build(chain, pool, FRAME_SIZE, 42, payload, false,
                    ByteBufAllocator.DEFAULT);
            assertEquals(payload, content.readableBytes());
            assertEquals(2, pool.applicationFrames());
            content.release();
            assertEquals(0, pool.applicationFrames());
            assertTrue(pool.accounting().balanced(), pool.accounting().toString());
        }
    }
}
