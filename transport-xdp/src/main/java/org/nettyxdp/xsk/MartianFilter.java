package org.nettyxdp.xsk;

/**
 * The source addresses the kernel refuses on input, applied by the fast path before a datagram
 * reaches the pipeline (counted as {@code DropReason.MARTIAN_SOURCE}). The steering program takes
 * frames before the kernel's checks, so without this a single spoofed frame from the channel's own
 * address and port would make an echo server answer itself forever.
 *
 * <p>IPv4, as {@code ip_route_input_slow} and {@code fib_validate_source} decide: {@code 0.0.0.0/8},
 * multicast ({@code 224.0.0.0/4}), the limited broadcast {@code 255.255.255.255}, loopback
 * ({@code 127.0.0.0/8}) unless the interface is {@code lo}, one of the host's own addresses (the
 * kernel's {@code accept_local} is off by default) and a directed broadcast of one of the host's
 * subnets. Link-local sources ({@code 169.254.0.0/16}) are accepted, as by the kernel.
 *
 * <p>IPv6, as {@code ip6_rcv_core} decides, and stricter where a reply would loop or leak: multicast
 * ({@code ff00::/8}), loopback {@code ::1} unless on {@code lo}, IPv4-mapped
 * ({@code ::ffff:0:0/96}), the unspecified address {@code ::} (no reply can go back to it) and one of
 * the host's own addresses (a reply would come back to the socket itself).
 */
final class MartianFilter {
    private MartianFilter() {
    }

    /** Whether the IPv4 source {@code ip} is martian on an interface ({@code loopback}: {@code lo}). */
    static boolean isMartian4(int ip, boolean loopback, LocalAddresses local) {
        int first = ip >>> 24;
        if (first == 0 || (first & 0xf0) == 0xe0 || ip == -1) {
            return true;
        }
        if (first == 127) {
            return !loopback;
        }
        return !loopback && (local.isOwn4(ip) || local.isSubnetBroadcast4(ip));
    }

    /** Whether the 16-byte IPv6 source {@code ip} is martian on an interface ({@code loopback}: {@code lo}). */
    static boolean isMartian6(byte[] ip, boolean loopback, LocalAddresses local) {
        if (ip[0] == (byte) 0xff) {
            return true;
        }
        boolean zero10 = true;
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                zero10 = false;
                break;
            }
        }
        if (zero10 && ip[10] == (byte) 0xff && ip[11] == (byte) 0xff) {
            return true; // IPv4-mapped
        }
        if (zero10 && ip[10] == 0 && ip[11] == 0 && ip[12] == 0 && ip[13] == 0 && ip[14] == 0
                && (ip[15] == 0 || ip[15] == 1)) {
            return ip[15] == 0 || !loopback; // :: always, ::1 off lo
        }
        return !loopback && local.isOwn6(ip);
    }
}
