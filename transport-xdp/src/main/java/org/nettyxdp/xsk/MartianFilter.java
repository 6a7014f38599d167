package org.nettyxdp.xsk;

/**
 * The source addresses the kernel refuses on input, applied by the fast path before a datagram
 * reaches the pipeline (counted as {@code DropReason.MARTIAN_SOURCE}). The steering program takes
 * frames before the kernel's checks, so without this a single spoofed frame from the channel's own
 * address and port would make an echo server answer itself forever.
 *
 * <p>IPv4, as {@code ip_route_input_slow} and {@code fib_validate_source} decide (with
 * {@code rp_filter} and {@code accept_local} off, the defaults): {@code 0.0.0.0} (the rest of
 * {@code 0.0.0.0/8} is unicast since Linux 5.3), multicast ({@code 224.0.0.0/4}), the limited
 * broadcast {@code 255.255.255.255}, loopback ({@code 127.0.0.0/8}) unless the interface is
 * {@code lo}, and any of the host's own addresses. Link-local ({@code 169.254.0.0/16}) and subnet
 * broadcast sources are accepted, as by the kernel (a reply to a broadcast address needs
 * {@code SO_BROADCAST} and takes the kernel socket).
 *
 * <p>IPv6, as {@code ip6_rcv_core} decides: multicast ({@code ff00::/8}) and loopback {@code ::1}
 * unless on {@code lo}; and stricter than the kernel where a reply would loop or cannot be routed:
 * IPv4-mapped ({@code ::ffff:0:0/96}), the unspecified address {@code ::} and the host's own
 * addresses, which Linux delivers to a UDP socket (an echo server then answers itself).
 */
final class MartianFilter {
    private MartianFilter() {
    }

    /** Whether the IPv4 source {@code ip} is martian on an interface ({@code loopback}: {@code lo}). */
    static boolean isMartian4(int ip, boolean loopback, LocalAddresses local) {
        int first = ip >>> 24;
        if (ip == 0 || (first & 0xf0) == 0xe0 || ip == -1) {
            return true;
        }
        if (first == 127) {
            return !loopback;
        }
        return !loopback && local.isOwn4(ip);
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
