package org.nettyxdp.benchmarks.harness;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One test host the script made: a veth pair with {@code queues} queues, {@code hostIf} in this
 * namespace (the servers bind {@code hostIp}), {@code peerIf} in namespace {@code ns} (the load
 * generator and clients, {@code peerIp}). Static neighbour entries exist on both sides.
 */
record BenchHost(int queues, String hostIf, String peerIf, String ns, InetAddress hostIp, InetAddress peerIp,
                 byte[] hostMac, byte[] peerMac) {

    /** Parses {@code queues:hostIf:peerIf:ns:hostIp:peerIp} and reads both MACs. */
    static BenchHost parse(String spec) throws IOException {
        String[] f = spec.split(":");
        if (f.length != 6) {
            throw new IllegalArgumentException("host spec queues:hostIf:peerIf:ns:hostIp:peerIp, got " + spec);
        }
        byte[] hostMac = mac(Files.readString(Path.of("/sys/class/net", f[1], "address")));
        byte[] peerMac = mac(Proc.run("ip", "netns", "exec", f[3], "cat", "/sys/class/net/" + f[2] + "/address"));
        return new BenchHost(Integer.parseInt(f[0]), f[1], f[2], f[3], InetAddress.getByName(f[4]),
                InetAddress.getByName(f[5]), hostMac, peerMac);
    }

    private static byte[] mac(String s) {
        String[] parts = s.trim().split(":");
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return m;
    }
}
