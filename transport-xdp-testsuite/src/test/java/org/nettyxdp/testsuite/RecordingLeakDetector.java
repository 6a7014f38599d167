package org.nettyxdp.testsuite;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link ResourceLeakDetector} that, besides logging, remembers every leak it reports, so that
 * {@link XdpTestsuiteExtension} can fail the test that leaked. Installed for the whole JVM with
 * {@code -Dio.netty.customResourceLeakDetector=org.nettyxdp.testsuite.RecordingLeakDetector}.
 *
 * @param <T> the tracked resource type
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {
    private static final List<RecordingLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        DETECTORS.add(this);
    }

    /** True once the JVM's detectors are ours (the system property was set). */
    static boolean installed() {
        return RecordingLeakDetector.class.getName().equals(System.getProperty("io.netty.customResourceLeakDetector"));
    }

    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected." + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                + " (no access records)");
        super.reportUntracedLeak(resourceType);
    }

    /**
     * Collects garbage, makes every detector look at what was collected, and returns (and forgets)
     * the leaks reported since the last call.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static List<String> collect() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(20);
            for (RecordingLeakDetector d : DETECTORS) {
                // A detector looks at its reference queue whenever it starts tracking something.
                Object probe = new Object();
                ResourceLeakTracker t = d.track(probe);
                if (t != null) {
                    t.close(probe);
                }
            }
        }
        List<String> leaks = new ArrayList<>(LEAKS);
        LEAKS.removeAll(leaks);
        return leaks;
    }
}
