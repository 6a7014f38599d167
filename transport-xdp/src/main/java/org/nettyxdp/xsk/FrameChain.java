package org.nettyxdp.xsk;

import org.nettyxdp.packet.Checksum;

import java.lang.foreign.MemorySegment;

/**
 * The descriptors of one multi-buffer packet ({@code XDP_PKT_CONTD} on every descriptor but the
 * last), in order: where each fragment's bytes lie in the UMEM region and how many there are. The
 * first fragment holds the headers; the rest is payload. Reused per packet; event-loop confined.
 */
final class FrameChain {
    /** Largest frame the fast path ever takes: Ethernet, a VLAN tag, an IPv6 header and a 64 KiB payload. */
    static final int MAX_FRAME = 14 + 4 + 40 + 65535;
    /**
     * Most descriptors one sent packet may have in copy mode: the kernel builds an skb with the first
     * in its linear part and one page fragment for each further one ({@code MAX_SKB_FRAGS}, 17).
     */
    static final int MAX_TX_FRAGMENTS = 17;

    private final long[] addrs;
    private final int[] lens;
    private final int maxFragments;
    private int count;
    private long total;

    /** A chain of at most enough fragments of {@code frameCapacity} bytes for {@link #MAX_FRAME}. */
    FrameChain(int frameCapacity) {
        this.maxFragments = (MAX_FRAME + frameCapacity - 1) / frameCapacity;
        this.addrs = new long[maxFragments];
        this.lens = new int[maxFragments];
    }

    /** The longest chain this socket takes: more descriptors are a hostile or broken chain. */
    int maxFragments() {
        return maxFragments;
    }

    void reset() {
        count = 0;
        total = 0;
    }

    /** Appends a fragment of {@code len} bytes at region offset {@code addr}; false if the chain is full. */
    boolean add(long addr, int len) {
        if (count == maxFragments) {
            return false;
        }
        addrs[count] = addr;
        lens[count] = len;
        count++;
        total += len;
        return true;
    }

    int count() {
        return count;
    }

    /** Bytes over all fragments. */
    long total() {
        return total;
    }

    long addr(int i) {
        return addrs[i];
    }

    int len(int i) {
        return lens[i];
    }

    /**
     * The one's-complement sum of {@code length} bytes of the chain, starting at region offset
     * {@code start} inside the first fragment and running on through the following fragments in
     * order. A fragment starting at an odd byte of the run contributes its sum byte-swapped, so odd
     * fragment lengths (zero-copy drivers choose them) sum as one contiguous run would.
     *
     * @throws IndexOutOfBoundsException if {@code start} is outside the first fragment or the chain holds
     *         fewer than {@code length} bytes from there
     */
    int sum(MemorySegment region, long start, long length) {
        long firstEnd = addrs[0] + lens[0];
        if (start < addrs[0] || start > firstEnd) {
            throw new IndexOutOfBoundsException("offset " + start + " is outside the chain's first fragment");
        }
        int acc = 0;
        long position = 0;
        long piece = Math.min(firstEnd - start, length);
        acc = addPiece(acc, Checksum.sum(region, start, piece), position);
        position += piece;
        for (int i = 1; i < count && position < length; i++) {
            piece = Math.min(lens[i], length - position);
            acc = addPiece(acc, Checksum.sum(region, addrs[i], piece), position);
            position += piece;
        }
        if (position < length) {
            throw new IndexOutOfBoundsException("the chain holds " + position + " of " + length + " bytes from "
                    + start);
        }
        return acc;
    }

    private static int addPiece(int acc, int pieceSum, long position) {
        int s = (position & 1) == 0 ? pieceSum : (pieceSum << 8 | pieceSum >>> 8) & 0xFFFF;
        return Checksum.add(acc, s);
    }
}
