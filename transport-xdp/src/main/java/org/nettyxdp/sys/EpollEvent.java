package org.nettyxdp.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct epoll_event}: packed on x86_64 (12 bytes), so {@code data} sits at offset 4.
 */
public final class EpollEvent {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("events"),
            JAVA_LONG.withByteAlignment(4).withName("data"));
    public static final long SIZE = LAYOUT.byteSize();
    /** {@code data}'s layout, made once: deriving it per call allocates (layout copy, var handle lookup). */
    private static final java.lang.foreign.ValueLayout.OfLong DATA_LAYOUT = JAVA_LONG.withByteAlignment(4);
    private static final long EVENTS = 0;
    private static final long DATA = 4;

    private EpollEvent() {
    }

    public static int events(MemorySegment array, int index) {
        return array.get(JAVA_INT, index * SIZE + EVENTS);
    }

    public static long data(MemorySegment array, int index) {
        return array.get(DATA_LAYOUT, index * SIZE + DATA);
    }

    public static void set(MemorySegment event, int events, long data) {
        event.set(JAVA_INT, EVENTS, events);
        event.set(DATA_LAYOUT, DATA, data);
    }
}
