package org.nettyxdp.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nettyxdp.reliability.LeakLog;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs a test class with Netty's leak detector at PARANOID and fails it, after the last test, on any
 * leak report (register it as a static {@code @RegisterExtension} field).
 */
public final class ParanoidLeaks implements BeforeAllCallback, AfterAllCallback {
    private ResourceLeakDetector.Level savedLevel;
    private LeakLog leaks;

    @Override
    public void beforeAll(ExtensionContext context) {
        savedLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        leaks = LeakLog.install();
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        // a leaked buffer is reported once it is collected, by the next buffer the detector tracks
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
            ByteBufAllocator.DEFAULT.directBuffer(1).release();
        }
        leaks.uninstall();
        ResourceLeakDetector.setLevel(savedLevel);
        assertEquals(List.of(), leaks.get(), "leak reports");
    }
}
