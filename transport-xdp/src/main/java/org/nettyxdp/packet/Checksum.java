package org.nettyxdp.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): one's-complement sums, the IPv4 header checksum, UDP checksums
 * over the IPv4 and IPv6 pseudo-headers, and incremental updates (RFC 1624).
 *
 * <p>A <em>sum</em> here is a folded 16-bit one's-complement sum in {@code [0, 0xFFFF]}, not yet
 * complemented; {@link #add} combines sums and {@link #finish} turns a sum into the value stored in
 * a checksum field. When summing a buffer in pieces, every piece but the last must have an even
 * length, since the sum works on 16-bit words. All methods are static and allocation-free.
 */
public final class Checksum {

    /** What {@code verifyUdp} found. */
    public enum UdpStatus {
        /** The checksum covers the datagram correctly. */
        VALID,
        /** The field is 0: the sender computed no checksum (allowed over IPv4 only). */
        ABSENT,
        /**
         * The field holds only the pseudo-header sum: the sender left the rest to checksum offload
         * that never ran, as a kernel socket's CHECKSUM_PARTIAL packets over veth arrive. The data
         * itself is unverified.
         */
        PARTIAL,
        /** Neither of the above, or the UDP length field does not fit the packet. */
        INVALID
    }

    private Checksum() {
    }

    /**
     * The sum of {@code length} bytes at {@code offset}; an odd last byte counts as its word's high byte.
     *
     * @throws IllegalArgumentException if {@code length} is negative or 2^31 or more
     */
    public static int sum(MemorySegment segment, long offset, long length) {
        checkLength(length);
        return (int) accumulate(segment, offset, length);
    }

    /** One's-complement addition of two sums (any non-negative 32-bit values are accepted). */
    public static int add(int sum, int other) {
        return fold((sum & 0xFFFF_FFFFL) + (other & 0xFFFF_FFFFL));
    }

    /** The checksum field value for a sum: its one's complement, in 16 bits. */
    public static int finish(int sum) {
        return ~sum & 0xFFFF;
    }

    /**
     * True if the bytes, checksum field included, sum to {@code 0xFFFF}: the check of RFC 1071.
     *
     * @throws IllegalArgumentException if {@code length} is negative or 2^31 or more
     */
    public static boolean isValid(MemorySegment segment, long offset, long length) {
        checkLength(length);
        return sum(segment, offset, length) == 0xFFFF;
    }

    /**
     * The IPv4 header checksum of {@code headerLength} bytes at {@code offset}, computed as if the
     * checksum field (bytes 10..12) were zero, so it need not be cleared first.
     *
     * @throws IllegalArgumentException if {@code headerLength} is outside [20, 60]
     */
    public static int ipv4Header(MemorySegment segment, long offset, int headerLength) {
        if (headerLength < Ipv4Hdr.LEN || headerLength > Ipv4Hdr.MAX_LEN) {
            throw new IllegalArgumentException("IPv4 header length must be in [20, 60]: " + headerLength);
        }
        long acc = accumulate(segment, offset, 10) + accumulate(segment, offset + 12, headerLength - 12L);
        return finish(fold(acc));
    }

    /** The sum of the IPv4 pseudo-header: addresses from {@code ip}, {@code protocol} and the L4 {@code length}. */
    public static int pseudoHeaderSum(Ipv4Hdr ip, int protocol, int length) {
        return pseudoHeaderSum(ip.source(), ip.destination(), protocol, length);
    }

    /** The sum of the IPv4 pseudo-header of addresses {@code source} and {@code destination}, {@code protocol} and the L4 {@code length}. */
    public static int pseudoHeaderSum(int source, int destination, int protocol, int length) {
        return fold(ipv4PseudoHeader(source, destination, protocol, length));
    }

    /**
     * The sum of a 20-byte IPv4 header (no options) held in registers: its first and second 8 bytes
     * and its last 4, as big-endian words. With the checksum field as received it is {@code 0xFFFF} for
     * a valid header; with the field zero, {@link #finish} of it is the checksum to store.
     */
    public static int ipv4HeaderSum(long first, long second, int last) {
        return fold((first >>> 32) + (first & 0xFFFF_FFFFL) + (second >>> 32) + (second & 0xFFFF_FFFFL)
                + (last & 0xFFFF_FFFFL));
    }

    /**
     * What the UDP checksum of a received datagram says, from the sum of its pseudo-header, the value
     * of its checksum field, and the sum of the datagram (header, field included, and payload). The
     * caller has ruled out a zero field ({@link UdpStatus#ABSENT} over IPv4, invalid over IPv6).
     */
    public static UdpStatus udpStatus(int pseudoHeaderSum, int checksumField, int datagramSum) {
        if (add(pseudoHeaderSum, datagramSum) == 0xFFFF) {
            return UdpStatus.VALID;
        }
        return checksumField == pseudoHeaderSum ? UdpStatus.PARTIAL : UdpStatus.INVALID;
    }

    /** The sum of the IPv6 pseudo-header: addresses from {@code ip}, {@code protocol} and the L4 {@code length}. */
    public static int pseudoHeaderSum(Ipv6Hdr ip, int protocol, int length) {
        return fold(ipv6PseudoHeader(ip, protocol, length));
    }

    /**
     * The sum of the IPv6 pseudo-header of the addresses held as big-endian halves (source
     * {@code s0:s1}, destination {@code d0:d1}), {@code protocol} and the L4 {@code length}.
     */
    public static int pseudoHeaderSum(long s0, long s1, long d0, long d1, int protocol, int length) {
        return fold((s0 >>> 32) + (s0 & 0xFFFF_FFFFL) + (s1 >>> 32) + (s1 & 0xFFFF_FFFFL)
                + (d0 >>> 32) + (d0 & 0xFFFF_FFFFL) + (d1 >>> 32) + (d1 & 0xFFFF_FFFFL)
                + (length & 0xFFFF_FFFFL) + protocol);
    }

    /**
     * The UDP checksum over IPv4 to store in {@code udp}: covers the pseudo-header and
     * {@code udp.length()} bytes from the UDP header, treating the checksum field as zero. A result
     * of 0 is returned as {@code 0xFFFF}, since 0 on the wire means "no checksum".
     *
     * @throws IndexOutOfBoundsException if the UDP length field is below 8 or runs past the bytes
     *         that were valid when {@code udp} was pointed
     */
    public static int udp(Ipv4Hdr ip, UdpHdr udp) {
        int length = checkedUdpLength(udp);
        long acc = ipv4PseudoHeader(ip.source(), ip.destination(), IpProto.UDP, length);
        return udpChecksum(acc, udp, length);
    }

    /**
     * The UDP checksum over IPv6 to store in {@code udp}, as {@link #udp(Ipv4Hdr, UdpHdr)}. The
     * pseudo-header names UDP whatever extension headers {@code ip.nextHeader()} lists.
     *
     * @throws IndexOutOfBoundsException if the UDP length field is below 8 or runs past the bytes
     *         that were valid when {@code udp} was pointed
     */
    public static int udp(Ipv6Hdr ip, UdpHdr udp) {
        int length = checkedUdpLength(udp);
        return udpChecksum(ipv6PseudoHeader(ip, IpProto.UDP, length), udp, length);
    }

    /**
     * The value TX checksum offload wants in the UDP checksum field: the pseudo-header sum alone
     * (not complemented), for {@code udp.length()}. The device then sums from the UDP header to the
     * end and stores the complement.
     */
    public static int udpPartial(Ipv4Hdr ip, UdpHdr udp) {
        return pseudoHeaderSum(ip, IpProto.UDP, udp.length());
    }

    /** The IPv6 counterpart of {@link #udpPartial(Ipv4Hdr, UdpHdr)}. */
    public static int udpPartial(Ipv6Hdr ip, UdpHdr udp) {
        return pseudoHeaderSum(ip, IpProto.UDP, udp.length());
    }

    /**
     * Checks the UDP checksum of a received IPv4 datagram over {@code udp.length()} bytes. The caller
     * still checks that the UDP length agrees with the IP length.
     */
    public static UdpStatus verifyUdp(Ipv4Hdr ip, UdpHdr udp) {
        if (udp.checksum() == 0) {
            return UdpStatus.ABSENT;
        }
        int length = udp.length();
        if (length < UdpHdr.LEN || length > udp.limit()) {
            return UdpStatus.INVALID;
        }
        return verdict(ipv4PseudoHeader(ip.source(), ip.destination(), IpProto.UDP, length), udp, length);
    }

    /**
     * Checks the UDP checksum of a received IPv6 datagram; a zero field is {@link UdpStatus#INVALID}
     * (RFC 8200 makes the checksum mandatory over IPv6).
     */
    public static UdpStatus verifyUdp(Ipv6Hdr ip, UdpHdr udp) {
        int length = udp.length();
        if (udp.checksum() == 0 || length < UdpHdr.LEN || length > udp.limit()) {
            return UdpStatus.INVALID;
        }
        return verdict(ipv6PseudoHeader(ip, IpProto.UDP, length), udp, length);
    }

    /**
     * Updates a checksum after one 16-bit word it covers changed from {@code oldWord} to
     * {@code newWord} (RFC 1624, eqn. 3). For UDP, keep a 0 field as is (no checksum) and store a
     * result of 0 as {@code 0xFFFF}.
     */
    public static int update(int checksum, int oldWord, int newWord) {
        return finish(fold((~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF)));
    }

    /**
     * Updates a checksum after an aligned 32-bit value it covers (e.g. an IPv4 address) changed from
     * {@code oldValue} to {@code newValue}; see {@link #update}.
     */
    public static int update32(int checksum, int oldValue, int newValue) {
        long acc = (~checksum & 0xFFFF)
                + (~oldValue >>> 16 & 0xFFFF) + (~oldValue & 0xFFFF)
                + (newValue >>> 16) + (newValue & 0xFFFF);
        return finish(fold(acc));
    }

    private static void checkLength(long length) {
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("length must be in [0, 2^31): " + length);
        }
    }

    private static int checkedUdpLength(UdpHdr udp) {
        int length = udp.length();
        if (length < UdpHdr.LEN) {
            throw new IndexOutOfBoundsException("UDP length " + length + " is below the header length of 8");
        }
        udp.checkLimit(length);
        return length;
    }

    private static int udpChecksum(long pseudoHeader, UdpHdr udp, int length) {
        MemorySegment segment = udp.segment();
        long start = udp.offset();
        long acc = pseudoHeader
                + accumulate(segment, start, UdpHdr.CHECKSUM)
                + accumulate(segment, start + UdpHdr.LEN, length - UdpHdr.LEN);
        int checksum = finish(fold(acc));
        return checksum == 0 ? 0xFFFF : checksum;
    }

    private static UdpStatus verdict(long pseudoHeader, UdpHdr udp, int length) {
        return udpStatus(fold(pseudoHeader), udp.checksum(), (int) accumulate(udp.segment(), udp.offset(), length));
    }

    private static long ipv4PseudoHeader(int source, int destination, int protocol, int length) {
        return (source >>> 16) + (source & 0xFFFF)
                + (destination >>> 16) + (destination & 0xFFFF)
                + protocol + length;
    }

    private static long ipv6PseudoHeader(Ipv6Hdr ip, int protocol, int length) {
        // Source and destination are adjacent: one 32-byte run.
        return accumulate(ip.segment(), ip.offset() + Ipv6Hdr.SOURCE, 2 * Ipv6Hdr.ADDRESS_LEN)
                + (length >>> 16) + (length & 0xFFFF) + protocol;
    }

    /** Whether words load little-endian, so a folded sum needs its two bytes swapped (RFC 1071 §2(B)). */
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    /**
     * The folded sum of the bytes as big-endian 16-bit words, in {@code [0, 0xFFFF]}, so callers
     * may add it to other accumulator terms.
     *
     * <p>Loads 8 bytes at a time in native order: the one's-complement sum is byte-order
     * independent (RFC 1071 §2(B)), so summing little-endian words and swapping the two bytes of
     * the folded result once gives the big-endian sum without a byte swap per load. A 64-bit word is
     * four 16-bit words, and since 2^16 = 1 (mod 0xFFFF) adding its two 32-bit halves into a wide
     * accumulator is the same sum; the carries pile up in the high bits and the fold wraps them
     * around. Each step adds less than 2^33 and there are fewer than 2^28 steps (lengths are at most
     * {@code Integer.MAX_VALUE}), so the {@code long} cannot overflow. The loop counts with an
     * {@code int}, which C2 unrolls far better than a {@code long} position. A tail of 1 to 7 bytes
     * is one 8-byte load with the bytes past the end masked off when the segment has 8 bytes there,
     * else 4-, 2- and 1-byte loads.
     */
    static long accumulate(MemorySegment segment, long offset, long length) {
        long acc = 0;
        int words = (int) (length >>> 3);
        for (int i = 0; i < words; i++) {
            long word = segment.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + ((long) i << 3));
            acc += (word >>> 32) + (word & 0xFFFF_FFFFL);
        }
        int rest = (int) length & 7;
        if (rest != 0) {
            acc += tail(segment, offset + ((long) words << 3), rest);
        }
        // Fold to 32 bits (end-around carry via a rotate), move the sum from native to network
        // order: rotating a 32-bit value by 8 multiplies it by 2^8 (mod 0xFFFF), which swaps the
        // bytes of its 16-bit sum. Then fold to 16 bits. A nonzero sum stays nonzero throughout.
        int sum = (int) ((acc + Long.rotateLeft(acc, 32)) >>> 32);
        if (LITTLE_ENDIAN) {
            sum = Integer.rotateLeft(sum, 8);
        }
        return (sum + Integer.rotateLeft(sum, 16)) >>> 16;
    }

    /** The native-order sum of the last {@code rest} (1 to 7) bytes from {@code position}, as two 32-bit halves. */
    private static long tail(MemorySegment segment, long position, int rest) {
        if (segment.byteSize() - position >= 8) {
            long word = segment.get(ValueLayout.JAVA_LONG_UNALIGNED, position);
            int unused = 64 - (rest << 3);
            word &= LITTLE_ENDIAN ? -1L >>> unused : -1L << unused;
            return (word >>> 32) + (word & 0xFFFF_FFFFL);
        }
        long acc = 0;
        if ((rest & 4) != 0) {
            acc += segment.get(ValueLayout.JAVA_INT_UNALIGNED, position) & 0xFFFF_FFFFL;
            position += 4;
        }
        if ((rest & 2) != 0) {
            acc += segment.get(ValueLayout.JAVA_SHORT_UNALIGNED, position) & 0xFFFF;
            position += 2;
        }
        if ((rest & 1) != 0) {
            int last = segment.get(ValueLayout.JAVA_BYTE, position) & 0xFF;
            acc += LITTLE_ENDIAN ? last : last << 8;
        }
        return acc;
    }

    /**
     * Folds an accumulator of 16-bit words (any {@code long} of non-negative terms, such as a sum of
     * {@link #sum} results and header words) to a sum in {@code [0, 0xFFFF]}, with end-around carry;
     * 0 only for 0. Adding a value to itself rotated by half its width leaves the one's-complement
     * sum of its halves, carry included, in the upper half.
     */
    public static int fold(long acc) {
        int sum = (int) ((acc + Long.rotateLeft(acc, 32)) >>> 32);
        return (sum + Integer.rotateLeft(sum, 16)) >>> 16;
    }
}
