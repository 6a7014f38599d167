package org.nettyxdp.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nettyxdp.reliability.LeakLog;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * JUnit 5 extension that fails a test when Netty's leak detector, at {@code PARANOID} (set for this
 * module's tests in its pom), reports a buffer that was garbage-collected without being released.
 * After each test it collects garbage and allocates a few buffers: the detector looks for collected,
 * unreleased buffers whenever it starts tracking one.
 */
final class ParanoidLeaks implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    private LeakLog log;

    @Override
    public void beforeAll(ExtensionContext context) {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "these tests run with -Dio.netty.leakDetection.level=paranoid");
        log = LeakLog.install();
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            List<ByteBuf> probes = new ArrayList<>();
            probes.add(ByteBufAllocator.DEFAULT.directBuffer(64));
            probes.add(ByteBufAllocator.DEFAULT.heapBuffer(64));
            probes.add(Unpooled.directBuffer(64));
            probes.add(Unpooled.buffer(64));
            probes.forEach(ByteBuf::release);
        }
        List<String> leaks = new ArrayList<>(log.get());
        log.get().clear();
        if (!leaks.isEmpty()) {
            fail(leaks.size() + " leak(s) reported by Netty's ResourceLeakDetector during or before "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (log != null) {
            log.uninstall();
        }
    }
}
