package org.nettyxdp.netlink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.nettyxdp.sys.Linux;
import org.nettyxdp.sys.Syscalls;

/**
 * Test host: two fresh network namespaces joined by a veth pair, so nothing touches the root
 * namespace's configuration. {@code ns1}/{@code veth1} (10.77.S.1/24, fd00:77:S::1/64) and
 * {@code ns2}/{@code veth2} (.2 / ::2), where S is random; ns1 also gets lo up and two gateway routes.
 * {@link #close()} deletes both namespaces (and with them the veths).
 */
final class TestNetns implements AutoCloseable {
    final String ns1;
    final String ns2;
    final String veth1;
    final String veth2;
    final int subnet;
    final String ip1;
    final String ip2;
    final String ip6a;
    final String ip6b;
    final String viaNet4;
    final String viaNet6;

    private final List<String> created = new ArrayList<>();

    TestNetns(int rxQueues, int txQueues) throws IOException {
        String tag = "nxnl" + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
        ns1 = tag + "a";
        ns2 = tag + "b";
        veth1 = tag + "x";
        veth2 = tag + "y";
        subnet = 1 + ThreadLocalRandom.current().nextInt(254);
        ip1 = "10.77." + subnet + ".1";
        ip2 = "10.77." + subnet + ".2";
        ip6a = "fd00:77:" + Integer.toHexString(subnet) + "::1";
        ip6b = "fd00:77:" + Integer.toHexString(subnet) + "::2";
        viaNet4 = "10.88." + subnet + ".0/24";
        viaNet6 = "fd00:88:" + Integer.toHexString(subnet) + "::/64";
        try {
            sh("ip", "netns", "add", ns1);
            created.add(ns1);
            sh("ip", "netns", "add", ns2);
            created.add(ns2);
            sh("ip", "link", "add", veth1, "numrxqueues", "" + rxQueues, "numtxqueues", "" + txQueues,
                    "netns", ns1, "type", "veth", "peer", "name", veth2, "netns", ns2);
            sh("ip", "-n", ns1, "addr", "add", ip1 + "/24", "dev", veth1);
            sh("ip", "-n", ns2, "addr", "add", ip2 + "/24", "dev", veth2);
            sh("ip", "-n", ns1, "addr", "add", ip6a + "/64", "dev", veth1, "nodad");
            sh("ip", "-n", ns2, "addr", "add", ip6b + "/64", "dev", veth2, "nodad");
            sh("ip", "-n", ns1, "link", "set", "lo", "up");
            sh("ip", "-n", ns1, "link", "set", veth1, "up");
            sh("ip", "-n", ns2, "link", "set", veth2, "up");
            sh("ip", "-n", ns1, "route", "add", viaNet4, "via", ip2, "dev", veth1);
            sh("ip", "-n", ns1, "-6", "route", "add", viaNet6, "via", ip6b, "dev", veth1);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    static boolean isRoot() {
        return uid() == 0;
    }

    private static long uid() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[2]); // effective uid
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through
        }
        return -1;
    }

    static boolean hasIp() {
        try {
            sh("ip", "-V");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Runs a command, returns stdout; throws with stderr if it fails. */
    static String sh(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", cmd));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + err.strip());
        }
        return out;
    }

    /** Runs {@code task} on a fresh platform thread that has entered namespace {@code ns}. */
    static <T> T inNetns(String ns, Callable<T> task) throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                int fd = Syscalls.open("/var/run/netns/" + ns, Linux.O_RDONLY | Linux.O_CLOEXEC);
                try {
                    Syscalls.setns(fd, Linux.CLONE_NEWNET);
                } finally {
                    Syscalls.close(fd);
                }
                result.set(new Object[] {task.call()});
            } catch (Throwable e) {
                result.set(e);
            }
        });
        t.join();
        Object r = result.get();
        if (r instanceof Exception e) {
            throw e;
        }
        if (r instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T value = (T) ((Object[]) r)[0];
        return value;
    }

    @Override
    public void close() {
        for (String ns : created.reversed()) {
            try {
                sh("ip", "netns", "del", ns);
            } catch (IOException e) {
                System.err.println("cleanup failed: " + e.getMessage());
            }
        }
        created.clear();
    }
}
