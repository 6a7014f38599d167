package org.nettyxdp.xsk;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Other sockets on a channel's UDP port. With {@code SO_REUSEADDR} or {@code SO_REUSEPORT} another
 * process can bind the port too, and the kernel then gives each datagram to the most specific bind
 * (an exact address before the wildcard, an IPv4 socket before a dual-stack one for IPv4), or shares
 * the port between equally specific ones. Steering the port would take those datagrams away from it,
 * so before steering, each of the channel's steering addresses is checked against the UDP sockets of
 * the namespace ({@code /proc/thread-self/net/udp} and {@code udp6}, read on the binding thread) that
 * this process does not own; an address another socket would win or share is left to the kernel.
 *
 * <p>Sockets of this process (the channel's companion, other channels, anything else in this JVM)
 * are not counted: channels of one process share ports by address through the steering map.
 */
final class PortSharing {
    private static final Path NET = Path.of("/proc/thread-self/net");

    /** A UDP socket bound to the port: its local address and inode. */
    record Socket(InetAddress address, long inode) {
    }

    private PortSharing() {
    }

    /**
     * The subset of {@code steered} (a channel's steering addresses on {@code port}: one bound address,
     * or the wildcard of each family) that no other process's socket would win or share; {@code why}
     * collects a line per address given up.
     *
     * @param ipv6Channel the channel is an IPv6 (dual-stack) socket: its IPv4 traffic competes with
     *                    other dual-stack sockets on an equal footing
     */
    static List<InetAddress> unshared(int port, List<InetAddress> steered, boolean ipv6Channel, List<String> why)
            throws IOException {
        List<Socket> others = new ArrayList<>();
        Set<Long> own = ownSocketInodes();
        for (Socket s : sockets(port)) {
            if (!own.contains(s.inode())) {
                others.add(s);
            }
        }
        if (others.isEmpty()) {
            return steered;
        }
        List<InetAddress> kept = new ArrayList<>();
        for (InetAddress key : steered) {
            Socket rival = null;
            for (Socket s : others) {
                if (competes(key, ipv6Channel, s.address())) {
                    rival = s;
                    break;
                }
            }
            if (rival == null) {
                kept.add(key);
            } else {
                why.add("UDP port " + port + " of " + key.getHostAddress() + " is also bound by another process's"
                        + " socket on " + rival.address().getHostAddress() + " (inode " + rival.inode()
                        + "): the kernel decides which socket gets its datagrams");
            }
        }
        return kept;
    }

    /**
     * Whether a socket bound to {@code other} would receive (or share) datagrams the channel's steering
     * address {@code key} takes.
     */
    static boolean competes(InetAddress key, boolean ipv6Channel, InetAddress other) {
        boolean keyAny = key.isAnyLocalAddress();
        boolean otherAny = other.isAnyLocalAddress();
        if (key instanceof Inet4Address) {
            if (other instanceof Inet6Address) {
                if (!otherAny) {
                    return false; // an IPv6 address (IPv4-mapped ones arrive here as Inet4Address)
                }
                // a dual-stack wildcard socket: below an IPv4 channel for IPv4, equal to a dual-stack one
                return ipv6Channel && keyAny;
            }
            if (keyAny) {
                return true; // any IPv4 bind on the port is at least as specific as our wildcard
            }
            return !otherAny && other.equals(key); // a wildcard bind is less specific than ours
        }
        if (!(other instanceof Inet6Address)) {
            return false; // IPv4 sockets never see IPv6 datagrams
        }
        if (keyAny) {
            return true;
        }
        return !otherAny && java.util.Arrays.equals(other.getAddress(), key.getAddress());
    }

    /** The UDP sockets of the namespace bound to {@code port}, both families. */
    static List<Socket> sockets(int port) throws IOException {
        List<Socket> out = new ArrayList<>();
        read(NET.resolve("udp"), port, out);
        read(NET.resolve("udp6"), port, out);
        return out;
    }

    private static void read(Path table, int port, List<Socket> out) throws IOException {
        if (!Files.exists(table)) {
            return; // IPv6 disabled
        }
        List<String> lines = Files.readAllLines(table);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length < 10) {
                continue;
            }
            String local = f[1];
            int colon = local.indexOf(':');
            if (Integer.parseInt(local.substring(colon + 1), 16) != port) {
                continue;
            }
            out.add(new Socket(address(local.substring(0, colon)), Long.parseLong(f[9])));
        }
    }

    /** The address of a {@code /proc/net/udp{,6}} entry: 32-bit words in host (little-endian) order. */
    static InetAddress address(String hex) throws UnknownHostException {
        byte[] a = new byte[hex.length() / 2];
        for (int w = 0; w < a.length / 4; w++) {
            long word = Long.parseLong(hex.substring(w * 8, w * 8 + 8), 16);
            for (int b = 0; b < 4; b++) {
                a[w * 4 + b] = (byte) (word >>> (8 * b));
            }
        }
        return InetAddress.getByAddress(a);
    }

    /** Inodes of the sockets this process has open. */
    private static Set<Long> ownSocketInodes() throws IOException {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target, 8, target.length() - 1, 10));
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile
                }
            }
        }
        return inodes;
    }
}
