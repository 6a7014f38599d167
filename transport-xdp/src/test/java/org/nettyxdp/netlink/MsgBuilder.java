package org.nettyxdp.netlink;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/** Builds netlink messages byte by byte (native order) for parser tests. */
final class MsgBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Deque<Integer> nests = new ArrayDeque<>();

    MsgBuilder(int type, int flags, int seq) {
        i32(0).i16(type).i16(flags).i32(seq).i32(0);
    }

    MsgBuilder u8(int v) {
        out.write(v);
        return this;
    }

    MsgBuilder i16(int v) {
        out.writeBytes(ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) v).array());
        return this;
    }

    MsgBuilder i32(int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array());
        return this;
    }

    MsgBuilder bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    MsgBuilder attr(int type, byte[] payload) {
        i16(4 + payload.length).i16(type).bytes(payload);
        return pad();
    }

    MsgBuilder attrU32(int type, int v) {
        return attr(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array());
    }

    MsgBuilder attrU8(int type, int v) {
        return attr(type, new byte[] {(byte) v});
    }

    MsgBuilder attrString(int type, String s) {
        byte[] b = s.getBytes();
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return attr(type, z);
    }

    MsgBuilder begin(int type) {
        nests.push(out.size());
        return i16(0).i16(type | 0x8000);
    }

    MsgBuilder end() {
        int start = nests.pop();
        byte[] b = out.toByteArray();
        int len = b.length - start;
        ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).putShort(start, (short) len);
        out.reset();
        out.writeBytes(b);
        return this;
    }

    private MsgBuilder pad() {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
        return this;
    }

    byte[] build() {
        byte[] b = out.toByteArray();
        ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).putInt(0, b.length);
        return b;
    }

    static MemorySegment segment(byte[] b) {
        return MemorySegment.ofArray(b);
    }
}
