package org.nettyxdp.buffer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ScatteringByteChannel;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The bulk copies of {@link UmemByteBuf}'s {@code getBytes}/{@code setBytes} between a frame's bytes
 * and NIO buffers, streams and channels; the buffer checks the bounds first.
 */
final class FrameCopies {
    private FrameCopies() {
    }

    /** Copies {@code dst.remaining()} bytes from {@code at} in {@code frame} into {@code dst}, advancing it. */
    static void toNio(MemorySegment frame, long at, ByteBuffer dst) {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int length = dst.remaining();
        MemorySegment.copy(frame, at, MemorySegment.ofBuffer(dst), 0, length);
        dst.position(dst.position() + length);
    }

    /** Copies {@code src.remaining()} bytes of {@code src} to {@code at} in {@code frame}, advancing it. */
    static void fromNio(ByteBuffer src, MemorySegment frame, long at) {
        int length = src.remaining();
        MemorySegment.copy(MemorySegment.ofBuffer(src), 0, frame, at, length);
        src.position(src.position() + length);
    }

    /** Writes {@code length} bytes from {@code at} in {@code frame} to {@code out}. */
    static void toStream(MemorySegment frame, long at, OutputStream out, int length) throws IOException {
        byte[] tmp = new byte[Math.min(length, 8192)];
        while (length > 0) {
            int n = Math.min(length, tmp.length);
            MemorySegment.copy(frame, JAVA_BYTE, at, tmp, 0, n);
            out.write(tmp, 0, n);
            at += n;
            length -= n;
        }
    }

    /** Reads at most {@code length} bytes of {@code in} to {@code at} in {@code frame}: the count read, or -1. */
    static int fromStream(InputStream in, MemorySegment frame, long at, int length) throws IOException {
        byte[] tmp = new byte[length];
        int read = in.read(tmp, 0, length);
        if (read > 0) {
            MemorySegment.copy(tmp, 0, frame, JAVA_BYTE, at, read);
        }
        return read;
    }

    /** Reads from {@code in} into {@code slice} (a view of the frame): the count read, -1 at its end or closed. */
    static int fromChannel(ScatteringByteChannel in, ByteBuffer slice) throws IOException {
        try {
            return in.read(slice);
        } catch (ClosedChannelException ignored) {
            return -1;
        }
    }

    /** Reads from {@code in} at {@code position} into {@code slice}: the count read, -1 at its end or closed. */
    static int fromFile(FileChannel in, long position, ByteBuffer slice) throws IOException {
        try {
            return in.read(slice, position);
        } catch (ClosedChannelException ignored) {
            return -1;
        }
    }
}
