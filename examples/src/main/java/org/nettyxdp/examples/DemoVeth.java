package org.nettyxdp.examples;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The examples' demo network: a veth pair whose host end {@value #HOST_IF} ({@value #HOST_IP}) stays
 * here and whose peer end {@value #PEER_IF} ({@value #PEER_IP}) lives in namespace {@value #NS}, with
 * a child JVM in the namespace as the traffic source. Removed again by {@link #close()} and on exit.
 */
final class DemoVeth implements AutoCloseable {
    static final String NS = "nxdemo";
    static final String HOST_IF = "nxdemo0";
    static final String PEER_IF = "nxdemo1";
    static final String HOST_IP = "10.99.0.1";
    static final String PEER_IP = "10.99.0.2";

    private final Thread cleanup = new Thread(DemoVeth::remove, "nxdemo-cleanup");

    DemoVeth() throws IOException, InterruptedException {
        remove(); // a leftover of an earlier run
        Runtime.getRuntime().addShutdownHook(cleanup);
        run("ip", "netns", "add", NS);
        run("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", PEER_IF, "netns", NS);
        run("ip", "addr", "add", HOST_IP + "/24", "dev", HOST_IF);
        run("ip", "link", "set", HOST_IF, "up");
        run("ip", "netns", "exec", NS, "ip", "addr", "add", PEER_IP + "/24", "dev", PEER_IF);
        run("ip", "netns", "exec", NS, "ip", "link", "set", PEER_IF, "up");
        run("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up");
        // complete UDP checksums from the peer: reflected frames go back as they came
        run("ip", "netns", "exec", NS, "ethtool", "-K", PEER_IF, "tx", "off");
    }

    /** Starts {@code main} of this classpath in a JVM inside the namespace, its output ours. */
    Process startInNamespace(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", NS,
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).inheritIO().start();
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        }
    }

    private static void remove() {
        for (String[] cmd : new String[][] {{"ip", "link", "del", HOST_IF}, {"ip", "netns", "del", NS}}) {
            try {
                new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor();
            } catch (IOException | InterruptedException ignored) {
                // nothing there to remove
            }
        }
    }

    @Override
    public void close() {
        remove();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
            // already shutting down: the hook runs anyway
        }
    }
}
