package org.nettyxdp.buffer;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nettyxdp.packet.PacketException;
import org.nettyxdp.packet.PacketException.Kind;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The packet semantics of a {@link UmemByteBuf}: index 0 is the head, {@code adjustHead} re-bases
 * the buffer into the headroom or past dropped bytes, {@code adjustTail} moves the end, and neither
 * can leave the frame.
 */
class UmemByteBufPacketTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    private TestPool frames;
    private UmemByteBuf buf;

    @BeforeEach
    void receive() throws Exception {
        frames = new TestPool(64);
        buf = frames.receive(HELLO, TestPool.HEADERS);
    }

    @AfterEach
    void release() throws Exception {
        if (buf.refCnt() > 0) {
            buf.release(buf.refCnt());
        }
        assertEquals(0, frames.pool.applicationFrames());
        frames.close();
    }

    private void assertPacket(int headroom, String content) {
        assertEquals(headroom, buf.headroom(), "headroom");
        assertEquals(0, buf.readerIndex(), "readerIndex");
        assertEquals(content.length(), buf.writerIndex(), "writerIndex");
        assertEquals(TestPool.FRAME_CAPACITY - headroom, buf.capacity(), "capacity");
        assertEquals(TestPool.FRAME_CAPACITY - headroom, buf.maxCapacity(), "maxCapacity");
        assertEquals(buf.capacity() - buf.writerIndex(), buf.tailroom(), "tailroom");
        assertEquals(content, buf.toString(StandardCharsets.ISO_8859_1));
    }

    private static void fails(Kind kind, Executable call) {
        assertEquals(kind, assertThrows(PacketException.class, call).kind());
    }

    @Test
    void aReceivedDatagramStartsAtIndexZero() {
        assertPacket(TestPool.HEADERS, "hello");
        assertEquals('h', buf.getByte(0));
    }

    @Test
    void growingTheHeadReBasesTheBufferOntoTheHeadroom() {
        long address = buf.memoryAddress();
        buf.readByte();
        buf.adjustHead(-2);
        assertPacket(TestPool.HEADERS - 2, "\u00e8\u00e9hello"); // the two "header" bytes below the payload
        assertEquals('h', buf.getByte(2), "old index 0 is index 2");
        assertEquals(address - 2, buf.memoryAddress(), "index 0 moved down two bytes");
        buf.setShort(0, 0x4142);
        assertPacket(TestPool.HEADERS - 2, "ABhello");
    }

    @Test
    void theHeadGrowsDownToTheFrameStartAndNoFurther() {
        fails(Kind.INSUFFICIENT_HEADROOM, () -> buf.adjustHead(-TestPool.HEADERS - 1));
        assertPacket(TestPool.HEADERS, "hello");
        buf.adjustHead(-TestPool.HEADERS);
        assertEquals(0, buf.headroom());
        assertEquals(TestPool.FRAME_CAPACITY, buf.capacity());
        fails(Kind.INSUFFICIENT_HEADROOM, () -> buf.adjustHead(-1));
        assertEquals("hello", buf.toString(TestPool.HEADERS, 5, StandardCharsets.US_ASCII));
    }

    @Test
    void shrinkingTheHeadDropsBytesFromTheFront() {
        buf.adjustHead(2);
        assertPacket(TestPool.HEADERS + 2, "llo");
        buf.adjustHead(3);
        assertPacket(TestPool.HEADERS + 5, "");
        fails(Kind.INVALID_PACKET_LENGTH, () -> buf.adjustHead(1));
        buf.adjustHead(-5);
        assertPacket(TestPool.HEADERS, "hello");
    }

    @Test
    void theTailMovesWithinTheFrame() {
        buf.adjustTail(-3);
        assertPacket(TestPool.HEADERS, "he");
        fails(Kind.INVALID_PACKET_LENGTH, () -> buf.adjustTail(-3));
        buf.adjustTail(-2);
        assertPacket(TestPool.HEADERS, "");
        buf.adjustTail(buf.tailroom());
        assertEquals(buf.capacity(), buf.writerIndex());
        assertEquals(0, buf.tailroom());
        fails(Kind.INVALID_PACKET_LENGTH, () -> buf.adjustTail(1));
    }

    @Test
    void truncatingPastTheReaderIndexClampsIt() {
        buf.readerIndex(4);
        buf.adjustTail(-3);
        assertEquals(2, buf.readerIndex());
        assertEquals(2, buf.writerIndex());
    }

    @Test
    void theTailCanGrowBackPastAShrunkCapacity() {
        buf.capacity(5);
        buf.adjustTail(10);
        assertEquals(15, buf.writerIndex());
        assertEquals(15, buf.capacity());
    }

    @Test
    void aReleasedBufferRefusesPacketOperations() {
        ByteBuf held = buf;
        held.release();
        assertThrows(io.netty.util.IllegalReferenceCountException.class, () -> buf.adjustHead(-1));
        assertThrows(io.netty.util.IllegalReferenceCountException.class, () -> buf.adjustTail(1));
    }

    @Test
    void reuseStartsFromAFreshState() {
        buf.retain();
        buf.readByte();
        buf.markReaderIndex();
        buf.adjustHead(-10);
        buf.release(2);
        buf = frames.receive(HELLO, 20);
        assertPacket(20, "hello");
        assertEquals(1, buf.refCnt());
        buf.resetReaderIndex();
        assertEquals(0, buf.readerIndex(), "marks start at 0");
    }
}
