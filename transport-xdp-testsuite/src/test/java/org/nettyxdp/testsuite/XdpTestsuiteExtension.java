package org.nettyxdp.testsuite;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Registered for every test of this module (JUnit extension auto-detection): skips the suite, saying
 * why, where AF_XDP cannot run or outside the private network namespace; and fails any test after which Netty's leak detector (PARANOID here)
 * reported a buffer that was garbage-collected without being released. After each class it reports
 * which path our channels' datagrams took ({@link PathStats}) and fails a unicast class whose
 * datagrams never took the AF_XDP fast path.
 */
public final class XdpTestsuiteExtension implements ExecutionCondition, BeforeAllCallback, AfterEachCallback,
        AfterAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        PathStats.startClass(context.getRequiredTestClass().getSimpleName());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        String name = context.getRequiredTestClass().getSimpleName();
        PathStats.Totals t = PathStats.report(name);
        // Passing through the companion socket alone would prove little: the unicast classes must
        // have received over AF_XDP, and sent over it wherever the host lets the fast path transmit
        // (IPv6 on lo always; IPv4 on lo only with route_localnet and accept_local).
        if (name.contains("Unicast")) {
            assertTrue(t.rxFast() > 0, name + ": no datagram took the AF_XDP receive path: " + t);
            boolean ipv4TxFast = NextHopsProbe.loopbackAcceptsOwnIpv4();
            if (name.equals("XdpDatagramUnicastIPv6Test") || ipv4TxFast) {
                assertTrue(t.txFast() > 0, name + ": no datagram took the AF_XDP transmit path: " + t);
            }
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!"root".equals(System.getProperty("user.name")) && !hasNetAdmin()) {
            return ConditionEvaluationResult.disabled(
                    "needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW) for AF_XDP, XDP and a network namespace");
        }
        if (!Boolean.getBoolean("nettyxdp.testsuite.netns")) {
            return ConditionEvaluationResult.disabled("runs only inside the private network namespace that"
                    + " src/test/netns-jvm/bin/java creates (surefire's <jvm>), never on the host's network");
        }
        return ConditionEvaluationResult.enabled("privileged, in a private network namespace");
    }

    private static boolean hasNetAdmin() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & (1L << 12)) != 0 && (caps & (1L << 39)) != 0; // NET_ADMIN, BPF
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // treat as unprivileged
        }
        return false;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (!RecordingLeakDetector.installed()) {
            fail("run with -Dio.netty.customResourceLeakDetector=" + RecordingLeakDetector.class.getName());
        }
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "the testsuite runs with -Dio.netty.leakDetection.level=paranoid");
        List<String> leaks = RecordingLeakDetector.collect();
        if (!leaks.isEmpty()) {
            fail(leaks.size() + " leak(s) reported by Netty's ResourceLeakDetector during or before "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }
}
