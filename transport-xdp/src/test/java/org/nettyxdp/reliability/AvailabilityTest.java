package org.nettyxdp.reliability;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nettyxdp.channel.Xdp;
import org.nettyxdp.testing.Shell;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Xdp#isAvailable()} in this JVM (root) and in child JVMs that lack one thing each: root
 * privileges ({@code nobody}), single capabilities (dropped from the bounding set with {@code setpriv}),
 * the memlock limit, or {@code --enable-native-access}. Each child reports the cause it got.
 */
class AvailabilityTest {
    private static final String NATIVE = "--enable-native-access=ALL-UNNAMED";

    @BeforeAll
    static void needsRoot() {
        Assumptions.assumeTrue(Shell.isRoot(), "AF_XDP and BPF need root");
    }

    private static void needsSetpriv() {
        Assumptions.assumeTrue(Shell.tryRun("setpriv --version").exitCode() == 0, "needs setpriv (util-linux)");
    }

    /** What a child JVM behind {@code prefix} reports, after checking that {@code ensureAvailability} agrees. */
    private static String child(List<String> prefix, String classpath, List<String> options) throws Exception {
        try (ChildJvm child = ChildJvm.startMain(prefix, classpath, options, AvailabilityMain.class)) {
            assertEquals(0, child.waitFor(60_000), child.output());
            String line = child.await("", 1_000);
            if (line.startsWith("UNAVAILABLE")) {
                assertEquals("ENSURE threw with the cause", child.await("ENSURE", 1_000), child.output());
            }
            System.out.println(String.join(" ", prefix) + " " + options + ": " + line);
            return line;
        }
    }

    private static String child(List<String> prefix, List<String> options) throws Exception {
        return child(prefix, ChildJvm.testClasspath(), options);
    }

    @Test
    void availableAsRoot() {
        assertNull(Xdp.unavailabilityCause());
        assertTrue(Xdp.isAvailable());
        assertDoesNotThrow(Xdp::ensureAvailability);
    }

    @Test
    void availableInAChildJvmAsRootWithNativeAccess() throws Exception {
        assertEquals("AVAILABLE", child(List.of(), List.of(NATIVE)));
    }

    @Test
    void unavailableWithoutNativeAccess() throws Exception {
        String line = child(List.of(), List.of());
        assertTrue(line.startsWith("UNAVAILABLE native access is not enabled")
                && line.contains("--enable-native-access=ALL-UNNAMED"), line);
    }

    @Test
    void unavailableAsNobody() throws Exception {
        needsSetpriv();
        Path cp = Files.createTempDirectory("nx-cp-");
        try {
            String line = child(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
                    ChildJvm.worldReadableClasspath(cp), List.of(NATIVE));
            assertTrue(line.startsWith("UNAVAILABLE missing CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_RAW")
                    && line.contains("run as root"), line);
        } finally {
            ChildJvm.deleteTree(cp);
        }
    }

    @Test
    void unavailableWithoutNetRaw() throws Exception {
        needsSetpriv();
        String line = child(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_raw"), List.of(NATIVE));
        assertTrue(line.startsWith("UNAVAILABLE missing CAP_NET_RAW "), line);
    }

    @Test
    void unavailableWithoutNetAdmin() throws Exception {
        needsSetpriv();
        String line = child(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_admin"), List.of(NATIVE));
        assertTrue(line.startsWith("UNAVAILABLE missing CAP_NET_ADMIN "), line);
    }

    @Test
    void unavailableWithoutBpfCapabilities() throws Exception {
        needsSetpriv();
        String line = child(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-bpf,-perfmon,-sys_admin"),
                List.of(NATIVE));
        assertTrue(line.startsWith("UNAVAILABLE missing CAP_BPF, CAP_PERFMON "), line);
    }

    @Test
    void sysAdminStandsInForBpfAndPerfmon() throws Exception {
        needsSetpriv();
        assertEquals("AVAILABLE", child(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-bpf,-perfmon"),
                List.of(NATIVE)));
    }

    @Test
    void unavailableWithALowMemlockLimitAndNoIpcLock() throws Exception {
        needsSetpriv();
        Assumptions.assumeTrue(Shell.tryRun("prlimit --version").exitCode() == 0, "needs prlimit (util-linux)");
        String line = child(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-ipc_lock",
                "prlimit", "--memlock=65536:65536"), List.of(NATIVE));
        assertTrue(line.startsWith("UNAVAILABLE the memlock limit (RLIMIT_MEMLOCK) is 65536 bytes"), line);
    }

    @Test
    void aLowMemlockLimitIsFineWithIpcLock() throws Exception {
        Assumptions.assumeTrue(Shell.tryRun("prlimit --version").exitCode() == 0, "needs prlimit (util-linux)");
        assertEquals("AVAILABLE", child(List.of("prlimit", "--memlock=65536:65536"), List.of(NATIVE)));
    }
}
