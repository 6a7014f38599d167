package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Copying {@link ByteBuf} contents into native memory, without allocating where the buffer allows. */
public final class Buffers {
    private Buffers() {
    }

    /** Copies the {@code length} readable bytes of {@code content} to {@code dst} at {@code offset}. */
    public static void copy(ByteBuf content, MemorySegment dst, long offset, int length) {
        copy(content, content.readerIndex(), dst, offset, length);
    }

    /** Copies {@code length} bytes of {@code content} from index {@code from} to {@code dst} at {@code offset}. */
    public static void copy(ByteBuf content, int from, MemorySegment dst, long offset, int length) {
        if (content.hasArray()) {
            MemorySegment.copy(content.array(), content.arrayOffset() + from, dst, JAVA_BYTE, offset, length);
        } else if (content.hasMemoryAddress()) {
            MemorySegment.copy(MemorySegment.ofAddress(content.memoryAddress() + from).reinterpret(length), 0,
                    dst, offset, length);
        } else {
            content.getBytes(from, dst.asSlice(offset, length).asByteBuffer());
        }
    }
}
