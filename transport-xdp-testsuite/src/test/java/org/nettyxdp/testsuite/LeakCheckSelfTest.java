package org.nettyxdp.testsuite;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shows that the module's leak check sees a leak: a buffer dropped without release() is reported. */
class LeakCheckSelfTest {
    @Test
    void aBufferNeverReleasedIsReported() throws Exception {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        assertTrue(RecordingLeakDetector.collect().isEmpty(), "no leak before this test");
        leakOne();
        List<String> leaks = List.of();
        for (int i = 0; i < 50 && leaks.isEmpty(); i++) {
            leaks = RecordingLeakDetector.collect();
        }
        assertFalse(leaks.isEmpty(), "the dropped buffer was reported");
        assertTrue(leaks.get(0).contains("LEAK: ByteBuf.release() was not called"), leaks.get(0));
    }

    private static void leakOne() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        buf.writeLong(42);
        // dropped on purpose
    }
}
