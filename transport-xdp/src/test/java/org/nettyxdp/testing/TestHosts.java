package org.nettyxdp.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JUnit 5 extension that makes test hosts: veth pairs into fresh network namespaces, with names
 * and addresses unique to this JVM and test, removed after each test even when it fails.
 *
 * <pre>{@code
 * @RegisterExtension static final TestHosts HOSTS = new TestHosts();
 * VethPair pair = HOSTS.vethPair(1);
 * }</pre>
 *
 * Tests using it are skipped, with the reason given, when not run as root.
 */
public final class TestHosts implements BeforeAllCallback, AfterEachCallback {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String PID = Long.toString(ProcessHandle.current().pid() % 46656, 36);
    /** The property that limits which interfaces wildcard and implicit binds may attach to. */
    public static final String WILDCARD_INTERFACES = "org.nettyxdp.wildcardInterfaces";

    static {
        // Tests run in the host's namespace, next to other test JVMs: a wildcard bind there may attach
        // only to this JVM's own veths (never to the host's NICs, its lo or another JVM's veths).
        if (System.getProperty(WILDCARD_INTERFACES) != null && !System.getProperty(WILDCARD_INTERFACES).isEmpty()) {
            System.setProperty(WILDCARD_INTERFACES, "nx[hp]" + PID + "\\d+");
        }
    }

    private final Deque<AutoCloseable> created = new ArrayDeque<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        Assumptions.assumeTrue(Shell.isRoot(), "needs root (or CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW) for AF_XDP and netns");
        Assumptions.assumeTrue(Shell.tryRun("ip -V").exitCode() == 0, "needs iproute2 (`ip`)");
    }

    /** A veth pair with {@code queues} RX/TX queues on each end; its peer end in a new namespace. */
    public synchronized VethPair vethPair(int queues) {
        int n = COUNTER.incrementAndGet();
        String id = PID + n;
        int subnet = (int) ((ProcessHandle.current().pid() * 131 + n) & 0x3fff) | 0x100;
        VethPair pair = new VethPair("nxh" + id, "nxp" + id, "nxns" + id, subnet, queues);
        created.push(pair);
        return pair;
    }

    /** A fresh network namespace with only {@code lo} (up); removed after the test. */
    public synchronized NetNs namespace() {
        NetNs ns = new NetNs("nxns" + PID + "l" + COUNTER.incrementAndGet());
        created.push(ns);
        return ns;
    }

    @Override
    public synchronized void afterEach(ExtensionContext context) {
        while (!created.isEmpty()) {
            try {
                created.pop().close();
            } catch (Exception ignored) {
                // best effort: the next pair uses other names
            }
        }
    }
}
