package org.nettyxdp.xsk;

import org.nettyxdp.netlink.AddressInfo;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The host's own addresses as one interface's fast path needs them: the destinations the steering
 * program may take (a wildcard socket receives datagrams to any of them), and the sources a frame
 * from the wire may not carry (martians, see {@link MartianFilter}). An immutable snapshot; the
 * interface swaps in a new one when the addresses change.
 *
 * <p>Built from every address of every interface of the namespace (Linux accepts a datagram for an
 * address of another interface, the weak host model), except those the kernel would not accept on
 * this interface: loopback addresses ({@code 127.0.0.0/8}, {@code ::1}) unless it is {@code lo}, and
 * IPv6 link-local addresses of other interfaces.
 */
final class LocalAddresses {
    static final LocalAddresses NONE = new LocalAddresses(List.of(), new int[0], new byte[0][]);
    private static final java.lang.invoke.VarHandle LONG_BE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    private final List<InetAddress> destinations;
    /** Sorted, for binary search: a namespace may have hundreds of addresses, checked per frame. */
    private final int[] ipv4;
    /** The IPv6 addresses as (high, low) 64-bit halves, sorted by high then low. */
    private final long[] ipv6High;
    private final long[] ipv6Low;

    private LocalAddresses(List<InetAddress> destinations, int[] ipv4, byte[][] ipv6) {
        this.destinations = destinations;
        this.ipv4 = ipv4.clone();
        Arrays.sort(this.ipv4);
        byte[][] sorted = ipv6.clone();
        Arrays.sort(sorted, (a, b) -> {
            int c = Long.compare(high(a), high(b));
            return c != 0 ? c : Long.compare(low(a), low(b));
        });
        this.ipv6High = new long[sorted.length];
        this.ipv6Low = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            ipv6High[i] = high(sorted[i]);
            ipv6Low[i] = low(sorted[i]);
        }
    }

    private static long high(byte[] a) {
        return (long) LONG_BE.get(a, 0);
    }

    private static long low(byte[] a) {
        return (long) LONG_BE.get(a, 8);
    }

    /** The snapshot for interface {@code ifindex} ({@code loopback}: it is {@code lo}) from a full address dump. */
    static LocalAddresses of(Collection<AddressInfo> all, int ifindex, boolean loopback) {
        Set<InetAddress> dst = new LinkedHashSet<>();
        List<Integer> v4 = new ArrayList<>();
        List<byte[]> v6 = new ArrayList<>();
        for (AddressInfo a : all) {
            InetAddress ip = a.address();
            byte[] raw = ip.getAddress();
            if (ip instanceof Inet4Address) {
                v4.add(XdpFastPath.toInt(raw));
            } else {
                v6.add(raw);
            }
            if (ip.isLoopbackAddress() && !loopback) {
                continue;
            }
            if (ip instanceof Inet6Address && ip.isLinkLocalAddress() && a.ifindex() != ifindex) {
                continue;
            }
            try {
                dst.add(InetAddress.getByAddress(raw)); // without scope id: the map ignores it
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return new LocalAddresses(List.copyOf(dst), v4.stream().mapToInt(Integer::intValue).toArray(),
                v6.toArray(new byte[0][]));
    }

    /** The destinations the steering program may take frames for (its {@code LocalAddressMap}). */
    List<InetAddress> destinations() {
        return destinations;
    }

    /** Whether {@code ip} is one of the host's IPv4 addresses (of any interface). */
    boolean isOwn4(int ip) {
        return Arrays.binarySearch(ipv4, ip) >= 0;
    }

    /** Whether the 16 bytes of {@code ip} are one of the host's IPv6 addresses (of any interface). */
    boolean isOwn6(byte[] ip) {
        long h = high(ip);
        long l = low(ip);
        int lo = 0;
        int hi = ipv6High.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compare(ipv6High[mid], h);
            if (c == 0) {
                c = Long.compare(ipv6Low[mid], l);
            }
            if (c == 0) {
                return true;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "LocalAddresses" + destinations;
    }
}
