package org.nettyxdp.examples;

import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The examples' small command line: {@code --name value} pairs, addresses and the stats line. */
final class Cli {
    private final Map<String, String> values;
    private final String usage;

    private Cli(Map<String, String> values, String usage) {
        this.values = values;
        this.usage = usage;
    }

    /**
     * Parses {@code --name value} pairs, accepting only {@code names}; prints {@code usage} and exits
     * on {@code --help} or anything else.
     */
    static Cli parse(String[] args, String usage, Set<String> names) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (name.equals("--help") || name.equals("-h")) {
                System.out.println(usage);
                System.exit(0);
            }
            if (!names.contains(name) || i + 1 == args.length) {
                System.err.println((names.contains(name) ? "missing value for " : "unknown argument: ") + name);
                System.err.println(usage);
                System.exit(2);
            }
            values.put(name, args[++i]);
        }
        return new Cli(values, usage);
    }

    /** The value of {@code name}, or {@code fallback}. */
    String value(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** {@code name} as {@code HOST:PORT} or {@code [IPV6]:PORT}; exits with the usage when malformed. */
    InetSocketAddress address(String name, String fallback) {
        String s = value(name, fallback);
        if (s == null) {
            fail(name + " is required");
        }
        try {
            return parseAddress(s);
        } catch (IllegalArgumentException e) {
            fail(name + ": " + e.getMessage());
            return null;
        }
    }

    /** {@code --mode auto|skb|drv}. */
    XdpAttachMode mode() {
        String s = value("--mode", "auto");
        try {
            return XdpAttachMode.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            fail("--mode must be auto, skb or drv: " + s);
            return null;
        }
    }

    int integer(String name, int fallback) {
        String s = value(name, null);
        try {
            return s == null ? fallback : Integer.parseInt(s);
        } catch (NumberFormatException e) {
            fail(name + " must be a number: " + s);
            return fallback;
        }
    }

    private void fail(String message) {
        System.err.println(message);
        System.err.println(usage);
        System.exit(2);
    }

    /** Parses {@code HOST:PORT} or {@code [IPV6]:PORT} (the host is resolved). */
    static InetSocketAddress parseAddress(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "'");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + s + "'");
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("cannot resolve '" + host + "'");
        }
        return address;
    }

    /** {@code address} as {@code 1.2.3.4:5} or {@code [::1]:5}. */
    static String text(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** One line of the channel's counters: fast path, slow path (kernel socket) and drops. */
    static String stats(XdpDatagramChannel channel) {
        XdpChannelMetrics m = channel.metrics();
        return String.format("fast path: rx %d tx %d (zero-copy %d, copied %d) | slow path: rx %d tx %d | drops %d%s",
                m.rxFastPackets(), m.txFastPackets(), m.txZeroCopy(), m.rxCopied(),
                m.rxSlowPackets(), m.txSlowPackets(), m.dropped(),
                m.dropped() > 0 ? " " + nonZero(m.drops()) : "");
    }

    private static Map<?, Long> nonZero(Map<?, Long> drops) {
        Map<Object, Long> m = new LinkedHashMap<>();
        drops.forEach((k, v) -> {
            if (v != 0) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** Why a bound channel runs without the fast path, or how it runs with it. */
    static String fastPathSummary(XdpDatagramChannel channel) {
        if (!channel.isFastPathActive()) {
            InetSocketAddress local = channel.localAddress();
            return local.getAddress().isAnyLocalAddress()
                    ? "fast path off: XDP could attach to no interface, kernel socket only"
                    : "fast path off: kernel socket only";
        }
        String s = "fast path on " + String.join(", ", channel.fastPathInterfaces());
        if (channel.fastPathInterface().equals("lo") && channel.localAddress().getAddress() instanceof Inet4Address
                && !loopbackIpv4FastTx()) {
            s += " (replies to 127.0.0.0/8 take the kernel socket unless net.ipv4.conf.lo.route_localnet"
                    + " and accept_local are 1)";
        }
        return s;
    }

    private static boolean loopbackIpv4FastTx() {
        return sysctlIsOne("route_localnet") && sysctlIsOne("accept_local");
    }

    private static boolean sysctlIsOne(String name) {
        try {
            return Files.readString(Path.of("/proc/sys/net/ipv4/conf/lo/" + name))
                    .trim().equals("1");
        } catch (IOException e) {
            return false;
        }
    }
}
