package org.nettyxdp.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JUnit 5 extension that makes test hosts: veth pairs into fresh network namespaces, with names
 * and addresses unique to this JVM and test, removed after each test even when it fails (what a
 * {@code @BeforeAll} method makes: after the class's last test).
 *
 * <pre>{@code
 * @RegisterExtension static final TestHosts HOSTS = new TestHosts();
 * VethPair pair = HOSTS.vethPair(1);
 * }</pre>
 *
 * Tests using it are skipped, with the reason given, when not run as root.
 */
public final class TestHosts implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {
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

    /** What the current test made; outside a test, what the class's {@code @BeforeAll} made. */
    private Deque<AutoCloseable> created = new ArrayDeque<>();
    private final Deque<AutoCloseable> createdForClass = created;

    /** Skips the calling test unless it runs as root; {@code what} names what needs it. */
    public static void assumeRoot(String what) {
        Assumptions.assumeTrue(Shell.isRoot(), "needs root for " + what + "; run the tests as root");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        assumeRoot("AF_XDP and netns (or CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW)");
        Assumptions.assumeTrue(Shell.tryRun("ip -V").exitCode() == 0, "needs iproute2 (`ip`)");
    }

    @Override
    public synchronized void beforeEach(ExtensionContext context) {
        created = new ArrayDeque<>();
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

    /** A veth pair between two fresh namespaces, see {@link NetNsLink}; removed after the test. */
    public synchronized NetNsLink linkedNamespaces(int rxQueues, int txQueues) {
        int n = COUNTER.incrementAndGet();
        int subnet = (int) ((ProcessHandle.current().pid() * 131 + n) % 254) + 1;
        NetNsLink link = new NetNsLink("nxns" + PID + "a" + n, "nxns" + PID + "b" + n, "nxa" + PID + n,
                "nxb" + PID + n, subnet, rxQueues, txQueues);
        created.push(link);
        return link;
    }

    @Override
    public synchronized void afterEach(ExtensionContext context) {
        closeAll(created);
        created = createdForClass;
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        closeAll(createdForClass);
    }

    private static void closeAll(Deque<AutoCloseable> resources) {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception ignored) {
                // best effort: the next pair uses other names
            }
        }
    }
}
