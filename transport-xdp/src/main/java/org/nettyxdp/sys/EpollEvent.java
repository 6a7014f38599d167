package org.nettyxdp.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct epoll_event} of the running architecture: packed on x86_64 (12 bytes, {@code data} at
 * offset 4), naturally aligned elsewhere (16 bytes, {@code data} at offset 8).
 */
public final class EpollEvent {
    /** The layout for the running architecture. */
    public static final StructLayout LAYOUT = layout(Arch.current());
    /** Size of one event; arrays of events are {@code SIZE}-strided. */
    public static final long SIZE = LAYOUT.byteSize();
    private static final long EVENTS = LAYOUT.byteOffset(PathElement.groupElement("events"));
    private static final long DATA = LAYOUT.byteOffset(PathElement.groupElement("data"));
    /** {@code data}'s layout, looked up once: deriving it per call allocates. */
    private static final ValueLayout.OfLong DATA_LAYOUT =
            (ValueLayout.OfLong) LAYOUT.select(PathElement.groupElement("data"));

    private EpollEvent() {
    }

    /** {@code struct epoll_event} as {@code arch} lays it out. */
    public static StructLayout layout(Arch arch) {
        return arch.packedEpollEvent()
                ? MemoryLayout.structLayout(
                        JAVA_INT.withName("events"),
                        JAVA_LONG.withByteAlignment(4).withName("data"))
                : MemoryLayout.structLayout(
                        JAVA_INT.withName("events"),
                        MemoryLayout.paddingLayout(4),
                        JAVA_LONG.withName("data"));
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
