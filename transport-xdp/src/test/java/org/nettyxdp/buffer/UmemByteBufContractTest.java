package org.nettyxdp.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Netty buffer contract of a received datagram's content: a table of {@link ByteBuf} operations,
 * each applied to a {@link UmemByteBuf} as the RX path hands it over (payload after 42 bytes of
 * headers in a UMEM frame) and to a plain direct buffer of the same capacity holding the same bytes,
 * as NIO would deliver them. Every operation must give the same result and leave both buffers in
 * the same state.
 */
class UmemByteBufContractTest {
    /** A DNS-like message: absolute offsets matter (a name compression pointer at 12 points to 2). */
    private static final byte[] PAYLOAD = ("\u0012\u0034\u0001\u0000hello, world: absolute indexes from 0 "
            + "\u00c0\u0002 and some more bytes to read").getBytes(StandardCharsets.ISO_8859_1);
    private static final int CAPACITY = TestPool.FRAME_CAPACITY - TestPool.HEADERS;

    private static TestPool frames;

    @BeforeAll
    static void map() throws Exception {
        frames = new TestPool(64);
    }

    @AfterAll
    static void unmap() throws Exception {
        assertEquals(0, frames.pool.applicationFrames(), "every buffer of the table was released");
        frames.close();
    }

    /** One operation on a buffer; its result (or the exception's class) is compared. */
    private interface Operation {
        Object apply(ByteBuf buf) throws Exception;
    }

    private record Op(String name, Operation apply) {
    }

    private static List<Op> table() {
        int len = PAYLOAD.length;
        List<Op> ops = new ArrayList<>();
        // indexes and sizes
        ops.add(new Op("readerIndex", ByteBuf::readerIndex));
        ops.add(new Op("writerIndex", ByteBuf::writerIndex));
        ops.add(new Op("capacity", ByteBuf::capacity));
        ops.add(new Op("maxCapacity", ByteBuf::maxCapacity));
        ops.add(new Op("readableBytes", ByteBuf::readableBytes));
        ops.add(new Op("writableBytes", ByteBuf::writableBytes));
        ops.add(new Op("maxWritableBytes", ByteBuf::maxWritableBytes));
        ops.add(new Op("isReadable/isWritable", b -> b.isReadable() + "/" + b.isWritable() + "/" + b.isReadable(len)
                + "/" + b.isReadable(len + 1) + "/" + b.isWritable(CAPACITY - len) + "/" + b.isWritable(CAPACITY)));
        ops.add(new Op("kind", b -> b.isDirect() + " " + b.hasArray() + " " + b.hasMemoryAddress() + " "
                + b.isContiguous() + " " + b.isReadOnly() + " " + b.nioBufferCount() + " " + b.order()));
        // absolute reads
        ops.add(new Op("getByte(0)", b -> b.getByte(0)));
        ops.add(new Op("getByte(last)", b -> b.getByte(len - 1)));
        ops.add(new Op("getUnsignedByte(12)", b -> b.getUnsignedByte(len - 38)));
        ops.add(new Op("getShort(0)", b -> b.getShort(0)));
        ops.add(new Op("getShortLE(1)", b -> b.getShortLE(1)));
        ops.add(new Op("getUnsignedShort(2)", b -> b.getUnsignedShort(2)));
        ops.add(new Op("getMedium(1)", b -> b.getMedium(1)));
        ops.add(new Op("getUnsignedMediumLE(3)", b -> b.getUnsignedMediumLE(3)));
        ops.add(new Op("getInt(0)", b -> b.getInt(0)));
        ops.add(new Op("getIntLE(5)", b -> b.getIntLE(5)));
        ops.add(new Op("getUnsignedInt(7)", b -> b.getUnsignedInt(7)));
        ops.add(new Op("getLong(0)", b -> b.getLong(0)));
        ops.add(new Op("getLongLE(9)", b -> b.getLongLE(9)));
        ops.add(new Op("getChar/getFloat/getDouble", b -> b.getChar(4) + " " + b.getFloat(6) + " " + b.getDouble(10)));
        ops.add(new Op("getByte(writerIndex) reads the tailroom", b -> b.getByte(len)));
        ops.add(new Op("getLong(capacity - 8)", b -> b.getLong(CAPACITY - 8)));
        ops.add(new Op("getByte(capacity) fails", b -> b.getByte(CAPACITY)));
        ops.add(new Op("getInt(capacity - 3) fails", b -> b.getInt(CAPACITY - 3)));
        ops.add(new Op("getByte(-1) fails", b -> b.getByte(-1)));
        ops.add(new Op("compression pointer", b -> {
            int at = indexOf(b, (byte) 0xc0);
            return b.getUnsignedShort(at) & 0x3fff;
        }));
        // relative reads
        ops.add(new Op("read sequence", b -> b.readByte() + " " + b.readShort() + " " + b.readInt() + " "
                + b.readLong() + " " + b.readerIndex()));
        ops.add(new Op("readBytes(5)", b -> b.readBytes(5)));
        ops.add(new Op("readSlice(5)", b -> b.readSlice(5)));
        ops.add(new Op("readRetainedSlice(5)", b -> releaseAfter(b.readRetainedSlice(5))));
        ops.add(new Op("skipBytes(4).readByte", b -> b.skipBytes(4).readByte()));
        ops.add(new Op("read past the end fails", b -> b.skipBytes(len - 2).readInt()));
        ops.add(new Op("mark/reset", b -> {
            b.readInt();
            b.markReaderIndex();
            b.readInt();
            b.resetReaderIndex();
            return b.readerIndex();
        }));
        ops.add(new Op("resetWriterIndex", b -> b.resetWriterIndex().writerIndex()));
        // bulk reads
        ops.add(new Op("getBytes(0, byte[])", b -> {
            byte[] a = new byte[len];
            b.getBytes(0, a);
            return a;
        }));
        ops.add(new Op("getBytes(3, heap ByteBuffer)", b -> {
            ByteBuffer bb = ByteBuffer.allocate(7);
            b.getBytes(3, bb);
            return bb.flip();
        }));
        ops.add(new Op("getBytes(3, direct ByteBuffer)", b -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(7);
            b.getBytes(3, bb);
            return bb.flip();
        }));
        ops.add(new Op("getBytes(2, heap ByteBuf)", b -> {
            ByteBuf dst = Unpooled.buffer(10);
            b.getBytes(2, dst, 1, 8);
            return dst.writerIndex(10);
        }));
        ops.add(new Op("getBytes(2, direct ByteBuf)", b -> {
            ByteBuf dst = Unpooled.directBuffer(10);
            b.getBytes(2, dst, 1, 8);
            return dst.writerIndex(10);
        }));
        ops.add(new Op("getBytes(OutputStream)", b -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            b.getBytes(1, out, 9);
            return out.toByteArray();
        }));
        ops.add(new Op("readBytes(heap ByteBuf) all", b -> {
            ByteBuf dst = Unpooled.buffer(len);
            b.readBytes(dst);
            return dst;
        }));
        ops.add(new Op("ByteBufUtil.getBytes", ByteBufUtil::getBytes));
        // derived buffers
        ops.add(new Op("slice()", ByteBuf::slice));
        ops.add(new Op("slice(3, 5)", b -> b.slice(3, 5)));
        ops.add(new Op("slice after read", b -> {
            b.readInt();
            ByteBuf s = b.slice();
            return s.getInt(0) + " " + describe(s);
        }));
        ops.add(new Op("duplicate()", ByteBuf::duplicate));
        ops.add(new Op("duplicate shares indexes' memory", b -> {
            ByteBuf d = b.duplicate();
            d.setByte(0, 'X');
            return b.getByte(0);
        }));
        ops.add(new Op("retainedSlice()", b -> {
            ByteBuf s = b.retainedSlice();
            String r = b.refCnt() + " " + describe(s);
            s.release();
            return r + " " + b.refCnt();
        }));
        ops.add(new Op("retainedSlice(4, 6)", b -> releaseAfter(b.retainedSlice(4, 6))));
        ops.add(new Op("retainedDuplicate()", b -> releaseAfter(b.retainedDuplicate())));
        ops.add(new Op("copy()", b -> releaseAfter(b.copy())));
        ops.add(new Op("copy(2, 9)", b -> releaseAfter(b.copy(2, 9))));
        ops.add(new Op("asReadOnly", b -> b.asReadOnly().getInt(1) + " " + b.asReadOnly().isReadOnly()));
        // NIO views and the memory address
        ops.add(new Op("nioBuffer()", ByteBuf::nioBuffer));
        ops.add(new Op("nioBuffer(2, 4)", b -> b.nioBuffer(2, 4)));
        ops.add(new Op("nioBuffer after read", b -> {
            b.readShort();
            return b.nioBuffer();
        }));
        ops.add(new Op("nioBuffers()", b -> b.nioBuffers()[0]));
        ops.add(new Op("internalNioBuffer(1, 3) content", b -> {
            ByteBuffer bb = b.internalNioBuffer(1, 3);
            byte[] a = new byte[bb.remaining()];
            bb.duplicate().get(a);
            return HexFormat.of().formatHex(a);
        }));
        ops.add(new Op("nioBuffer writes through", b -> {
            b.nioBuffer(0, 4).putInt(0, 0x01020304);
            return b.getInt(0);
        }));
        ops.add(new Op("memoryAddress + i reads getByte(i)", b -> {
            MemorySegment mem = MemorySegment.ofAddress(b.memoryAddress()).reinterpret(b.capacity());
            for (int i = 0; i < b.capacity(); i++) {
                if (mem.get(JAVA_BYTE, i) != b.getByte(i)) {
                    return "differs at " + i;
                }
            }
            return "same";
        }));
        // writes
        ops.add(new Op("setInt(0)/setLong/setShort/setMedium/setByte", b -> {
            b.setInt(0, 0xdeadbeef).setLong(4, 0x1122334455667788L).setShort(12, 0xabcd).setMedium(14, 0x123456)
                    .setByte(17, 0x99).setIntLE(18, 7).setLongLE(22, -2).setShortLE(30, 0x4321).setMediumLE(32, 0x654321);
            return b.getInt(0) + " " + b.getLong(4) + " " + b.getShort(12) + " " + b.getMedium(14) + " " + b.getByte(17);
        }));
        ops.add(new Op("setBytes(heap array)", b -> b.setBytes(3, new byte[] {9, 8, 7, 6}).getInt(3)));
        ops.add(new Op("setBytes(ByteBuffer)", b -> b.setBytes(1, ByteBuffer.wrap(new byte[] {1, 2, 3})).getMedium(1)));
        ops.add(new Op("setBytes(direct ByteBuf)", b -> b.setBytes(0, Unpooled.directBuffer(4).writeInt(42)).getInt(0)));
        ops.add(new Op("setBytes(InputStream)", b ->
                b.setBytes(5, new ByteArrayInputStream(new byte[] {5, 5, 5}), 3) + " " + b.getMedium(5)));
        ops.add(new Op("writeBytes up to capacity", b -> {
            byte[] fill = new byte[b.writableBytes()];
            for (int i = 0; i < fill.length; i++) {
                fill[i] = (byte) (i * 7);
            }
            b.writeBytes(fill);
            return b.writerIndex() + " " + b.getByte(CAPACITY - 1) + " " + b.isWritable();
        }));
        ops.add(new Op("writeByte past capacity fails", b -> {
            b.writerIndex(b.capacity());
            return b.writeByte(1);
        }));
        ops.add(new Op("ensureWritable(capacity) fails", b -> b.ensureWritable(CAPACITY)));
        ops.add(new Op("ensureWritable(n, false)", b -> b.ensureWritable(CAPACITY, false)));
        ops.add(new Op("writeCharSequence", b -> b.writeCharSequence("añb", StandardCharsets.UTF_8)));
        ops.add(new Op("setCharSequence", b -> b.setCharSequence(2, "xyz", StandardCharsets.US_ASCII)));
        ops.add(new Op("writeZero", b -> b.writeZero(5)));
        ops.add(new Op("setZero", b -> b.setZero(1, 9)));
        ops.add(new Op("discardReadBytes", b -> {
            b.readBytes(7).release();
            return b.discardReadBytes();
        }));
        ops.add(new Op("discardSomeReadBytes", b -> {
            b.readBytes(len - 1).release();
            return b.discardSomeReadBytes();
        }));
        ops.add(new Op("clear", ByteBuf::clear));
        ops.add(new Op("capacity(10) shrinks", b -> b.capacity(10)));
        ops.add(new Op("capacity(capacity + 1) fails", b -> b.capacity(CAPACITY + 1)));
        // text, comparison, search
        ops.add(new Op("toString(UTF-8)", b -> b.toString(StandardCharsets.UTF_8)));
        ops.add(new Op("toString(4, 5, ASCII)", b -> b.toString(4, 5, StandardCharsets.US_ASCII)));
        ops.add(new Op("hexDump", ByteBufUtil::hexDump));
        ops.add(new Op("prettyHexDump", ByteBufUtil::prettyHexDump));
        ops.add(new Op("equals", b -> b.equals(Unpooled.wrappedBuffer(PAYLOAD)) + " " + b.equals(Unpooled.buffer())));
        ops.add(new Op("hashCode", ByteBuf::hashCode));
        ops.add(new Op("compareTo", b -> Integer.signum(b.compareTo(Unpooled.wrappedBuffer(PAYLOAD, 0, 10))) + " "
                + b.compareTo(Unpooled.wrappedBuffer(PAYLOAD))));
        ops.add(new Op("indexOf", b -> b.indexOf(0, len, (byte) ':') + " " + b.indexOf(len, 0, (byte) 'e')));
        ops.add(new Op("bytesBefore", b -> b.bytesBefore((byte) 'w')));
        ops.add(new Op("forEachByte", b -> b.forEachByte(c -> c != ',')));
        ops.add(new Op("forEachByteDesc", b -> b.forEachByteDesc(c -> c != 'e')));
        ops.add(new Op("ByteBufUtil.indexOf", b -> ByteBufUtil.indexOf(Unpooled.copiedBuffer("world",
                StandardCharsets.US_ASCII), b)));
        return ops;
    }

    @TestFactory
    Stream<DynamicTest> behavesLikeADirectBufferHoldingTheSameBytes() {
        return table().stream().map(op -> DynamicTest.dynamicTest(op.name(), () -> {
            ByteBuf umem = frames.receive(PAYLOAD, TestPool.HEADERS);
            ByteBuf nio = Unpooled.directBuffer(CAPACITY, CAPACITY).writeBytes(PAYLOAD);
            try {
                assertEquals(state(nio), state(umem), "before");
                assertEquals(result(op, nio), result(op, umem), "result");
                assertEquals(state(nio), state(umem), "after");
            } finally {
                releaseAll(umem);
                releaseAll(nio);
            }
        }));
    }

    @Test
    void derivedBuffersOfAReleasedBufferRefuseAccess() {
        ByteBuf umem = frames.receive(PAYLOAD, TestPool.HEADERS);
        ByteBuf slice = umem.slice();
        assertTrue(umem.release());
        assertEquals("IllegalReferenceCountException", result(new Op("slice.getByte", s -> s.getByte(0)), slice));
        assertEquals("IllegalReferenceCountException", result(new Op("release", ByteBuf::release), umem));
    }

    // ------------------------------------------------------------------------------------- helpers

    private static Object result(Op op, ByteBuf b) {
        try {
            return describe(op.apply().apply(b));
        } catch (Throwable e) {
            return e.getClass().getSimpleName();
        }
    }

    /** Indexes, capacities, reference count and every byte up to the capacity. */
    private static String state(ByteBuf b) {
        if (b.refCnt() == 0) {
            return "released";
        }
        byte[] all = new byte[b.capacity()];
        b.getBytes(0, all);
        return "r=" + b.readerIndex() + " w=" + b.writerIndex() + " cap=" + b.capacity() + " max=" + b.maxCapacity()
                + " refCnt=" + b.refCnt() + " bytes=" + HexFormat.of().formatHex(all);
    }

    private static String describe(Object r) {
        if (r instanceof ByteBuf b) {
            if (b.refCnt() == 0) {
                return "ByteBuf(released)";
            }
            return "ByteBuf(r=" + b.readerIndex() + " w=" + b.writerIndex() + " cap=" + b.capacity() + " max="
                    + b.maxCapacity() + " refCnt=" + b.refCnt() + " readable=" + ByteBufUtil.hexDump(b) + ")";
        }
        if (r instanceof ByteBuffer bb) {
            byte[] a = new byte[bb.remaining()];
            bb.duplicate().get(a);
            return "ByteBuffer(pos=" + bb.position() + " lim=" + bb.limit() + " cap=" + bb.capacity() + " direct="
                    + bb.isDirect() + " order=" + bb.order() + " content=" + HexFormat.of().formatHex(a) + ")";
        }
        if (r instanceof byte[] a) {
            return HexFormat.of().formatHex(a);
        }
        return String.valueOf(r);
    }

    private static String releaseAfter(ByteBuf derived) {
        String d = describe(derived);
        derived.release();
        return d;
    }

    private static void releaseAll(ByteBuf b) {
        if (b.refCnt() > 0) {
            b.release(b.refCnt());
        }
    }

    private static int indexOf(ByteBuf b, byte value) {
        for (int i = 0; i < b.writerIndex(); i++) {
            if (b.getByte(i) == value) {
                return i;
            }
        }
        return -1;
    }
}
