package org.nettyxdp.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable view of one UMEM frame holding a packet: where the packet starts ({@link #head()}),
 * where it ends ({@link #tail()}) and its descriptor {@link #options()}.
 *
 * <pre>
 * frameAddr                  +256
 * |  kernel headroom (256)   | headroom (optional) | packet             | tailroom       |
 *                            ^ data                ^ head               ^ tail           ^ capacity
 * </pre>
 *
 * The first {@value #XDP_PACKET_HEADROOM} bytes of a frame belong to the kernel; head, tail and
 * {@link #capacity()} are counted from the byte after them, and every offset taken by the accessors
 * is counted from the head. Bytes between the data start and the head are headroom the packet can
 * grow down into ({@link #adjustHead}); bytes between the tail and the capacity are tailroom it can
 * grow up into ({@link #adjustTail}, {@link #append}, {@link #insert}).
 *
 * <h2>Reuse</h2>
 * One instance serves a whole socket: create it once for the UMEM, then point it at each frame with
 * {@link #reset(long, int, int, int)} (e.g. a free TX frame) or {@link #resetFromDescriptor} (an RX
 * descriptor), and turn it back into a descriptor with {@link #writeDescriptor}. None of the methods
 * allocate, except {@link #sliceAtOffset} (a segment view) and the ones that throw. Instances are not
 * thread-safe.
 *
 * <h2>Bounds</h2>
 * As a sanity check against wild arithmetic, offsets and sizes of 4 KiB ({@value #SANITY_LIMIT})
 * or more are always rejected: no frame is larger than a page. The errors are {@link PacketException}s
 * whose kind says what failed.
 */
public final class XdpPacket {

    /** Bytes at the start of every frame reserved for the kernel ({@code XDP_PACKET_HEADROOM}). */
    public static final int XDP_PACKET_HEADROOM = 256;
    /** The smallest UMEM frame (chunk) the kernel accepts ({@code XDP_UMEM_MIN_CHUNK_SIZE}). */
    public static final int MIN_FRAME_SIZE = 2048;
    /** Offsets and sizes at or above this are rejected as insane; also the largest frame size. */
    public static final int SANITY_LIMIT = 4096;

    /** Descriptor option: the packet continues in the next descriptor ({@code XDP_PKT_CONTD}). */
    public static final int XDP_PKT_CONTD = 1;
    /** Descriptor option: TX metadata precedes the packet ({@code XDP_TX_METADATA}). */
    public static final int XDP_TX_METADATA = 1 << 1;

    /** Size of {@code struct xdp_desc}: {@code u64 addr, u32 len, u32 options}. */
    public static final int DESC_SIZE = 16;
    /**
     * Size of {@code struct xsk_tx_metadata} (flags, checksum request or completion timestamp, launch
     * time). A UMEM that carries TX metadata must be registered with this {@code tx_metadata_len}:
     * the kernel looks for the struct that many bytes before each TX descriptor's address.
     */
    public static final int TX_METADATA_LEN = 24;

    /** TX offload capability: the device can complete an L4 checksum ({@link #setTxMetadata}). */
    public static final int TX_OFFLOAD_CHECKSUM = 1;
    /** TX offload capability: the device can report a TX timestamp ({@link #setTxMetadata}). */
    public static final int TX_OFFLOAD_TIMESTAMP = 1 << 1;
    /** {@code csumStart} value for {@link #setTxMetadata} that requests no checksum offload. */
    public static final int NO_CHECKSUM = -1;

    /** {@code XDP_TXMD_FLAGS_TIMESTAMP} in {@code xsk_tx_metadata.flags}. */
    static final long TXMD_FLAGS_TIMESTAMP = 1;
    /** {@code XDP_TXMD_FLAGS_CHECKSUM} in {@code xsk_tx_metadata.flags}. */
    static final long TXMD_FLAGS_CHECKSUM = 1 << 1;
    /** Offset of {@code request.csum_start} in {@code xsk_tx_metadata}; {@code csum_offset} follows. */
    static final int TXMD_CSUM_START = 8;

    private final MemorySegment umem;
    private final int frameSize;
    private final int txOffloads;

    private long frameAddr;
    /** UMEM offset of the first byte after the kernel headroom: {@code frameAddr + 256}. */
    private long data;
    /** 0 until the first reset, so an unpointed packet can hold nothing. */
    private int capacity;
    private int head;
    private int tail;
    private int options;

    /**
     * A packet view over {@code umem} whose frames are {@code frameSize} bytes, with no TX offloads.
     * It points at no frame (empty, capacity 0) until the first {@code reset}.
     *
     * @throws IllegalArgumentException if {@code frameSize} is outside
     *         [{@value #MIN_FRAME_SIZE}, {@value #SANITY_LIMIT}] or larger than {@code umem}
     */
    public XdpPacket(MemorySegment umem, int frameSize) {
        this(umem, frameSize, 0);
    }

    /**
     * A packet view as {@link #XdpPacket(MemorySegment, int)}, whose socket supports the given TX
     * offloads ({@link #TX_OFFLOAD_CHECKSUM} and/or {@link #TX_OFFLOAD_TIMESTAMP}). The capabilities
     * belong to the socket, so they live here and survive every {@code reset}; they never reach the
     * descriptor.
     */
    public XdpPacket(MemorySegment umem, int frameSize, int txOffloads) {
        if (frameSize < MIN_FRAME_SIZE || frameSize > SANITY_LIMIT || frameSize > umem.byteSize()) {
            throw new IllegalArgumentException("frame size " + frameSize + " must be in [" + MIN_FRAME_SIZE
                    + ", " + SANITY_LIMIT + "] and fit a UMEM of " + umem.byteSize() + " bytes");
        }
        if ((txOffloads & ~(TX_OFFLOAD_CHECKSUM | TX_OFFLOAD_TIMESTAMP)) != 0) {
            throw new IllegalArgumentException("unknown TX offload flags: 0x" + Integer.toHexString(txOffloads));
        }
        this.umem = umem;
        this.frameSize = frameSize;
        this.txOffloads = txOffloads;
    }

    /**
     * Points this view at the frame starting at UMEM offset {@code frameAddr}, with the packet in
     * {@code [head, tail)} (counted after the kernel headroom) and the given descriptor options. For a
     * fresh TX frame with {@code h} bytes of headroom: {@code reset(frameAddr, h, h, 0)}.
     *
     * @return this
     * @throws IllegalArgumentException if the frame does not lie in the UMEM or not
     *         {@code 0 <= head <= tail <= frameSize - 256}
     */
    public XdpPacket reset(long frameAddr, int head, int tail, int options) {
        if (frameAddr < 0 || frameAddr > umem.byteSize() - frameSize) {
            throw new IllegalArgumentException("frame at " + frameAddr + " does not fit a UMEM of "
                    + umem.byteSize() + " bytes");
        }
        int frameCapacity = frameSize - XDP_PACKET_HEADROOM;
        if (head < 0 || head > tail || tail > frameCapacity) {
            throw new IllegalArgumentException("need 0 <= head (" + head + ") <= tail (" + tail
                    + ") <= capacity (" + frameCapacity + ")");
        }
        this.frameAddr = frameAddr;
        this.data = frameAddr + XDP_PACKET_HEADROOM;
        this.capacity = frameCapacity;
        this.head = head;
        this.tail = tail;
        this.options = options;
        return this;
    }

    /**
     * Points this view at the packet an RX descriptor describes: the frame is the one containing
     * {@code addr}, the head is {@code addr} and the tail {@code addr + len}. Only for aligned-mode
     * UMEMs (power-of-two frame size), where the frame start is {@code addr} rounded down; the
     * packet must start after the kernel headroom, as the kernel delivers it.
     *
     * @return this
     * @throws IllegalStateException if the frame size is not a power of two
     * @throws IllegalArgumentException if the descriptor does not describe a packet in a frame
     */
    public XdpPacket resetFromDescriptor(long addr, int len, int options) {
        if (Integer.bitCount(frameSize) != 1) {
            throw new IllegalStateException("frame size " + frameSize + " is not a power of two (aligned mode)");
        }
        long frame = addr & -frameSize;
        long start = addr - frame - XDP_PACKET_HEADROOM;
        if (addr < 0 || start < 0 || len < 0) {
            throw new IllegalArgumentException("descriptor addr " + addr + " len " + Integer.toUnsignedString(len)
                    + " is not a packet after the kernel headroom of a " + frameSize + "-byte frame");
        }
        return reset(frame, (int) start, (int) (start + len), options);
    }

    /**
     * Points this view at the packet the {@code struct xdp_desc} at {@code ring[slot]} describes
     * (native byte order, as in a mapped ring); see {@link #resetFromDescriptor(long, int, int)}.
     *
     * @return this
     */
    public XdpPacket resetFromDescriptor(MemorySegment ring, long slot) {
        return resetFromDescriptor(ring.get(ValueLayout.JAVA_LONG_UNALIGNED, slot),
                ring.get(ValueLayout.JAVA_INT_UNALIGNED, slot + 8),
                ring.get(ValueLayout.JAVA_INT_UNALIGNED, slot + 12));
    }

    /**
     * Writes this packet as a {@code struct xdp_desc} at {@code ring[slot]} (native byte order):
     * {@link #addr()}, {@link #len()}, {@link #options()}. The kernel rejects zero-length descriptors.
     */
    public void writeDescriptor(MemorySegment ring, long slot) {
        ring.set(ValueLayout.JAVA_LONG_UNALIGNED, slot, addr());
        ring.set(ValueLayout.JAVA_INT_UNALIGNED, slot + 8, len());
        ring.set(ValueLayout.JAVA_INT_UNALIGNED, slot + 12, options);
    }

    /** The descriptor address: the UMEM offset of the packet's first byte. */
    public long addr() {
        return data + head;
    }

    /** The number of valid bytes: {@code tail - head}; the descriptor length. */
    public int len() {
        return tail - head;
    }

    /** True if the packet holds no bytes. */
    public boolean isEmpty() {
        return head == tail;
    }

    /**
     * The descriptor options: only kernel bits ({@link #XDP_PKT_CONTD}, {@link #XDP_TX_METADATA}),
     * since capabilities are kept apart. Passed through unchanged from {@code reset}.
     */
    public int options() {
        return options;
    }

    /**
     * The frame size less the kernel headroom: the highest possible tail. For a 4 KiB frame that is
     * 3840. 0 before the first {@code reset}.
     */
    public int capacity() {
        return capacity;
    }

    /** The head: bytes of headroom below the packet, i.e. how far {@link #adjustHead} can go down. */
    public int head() {
        return head;
    }

    /** The tail: the end of the packet, counted like the head. */
    public int tail() {
        return tail;
    }

    /** The room above the packet: {@code capacity() - tail()}. */
    public int tailroom() {
        return capacity - tail;
    }

    /** The UMEM offset of the frame this view points at. */
    public long frameAddr() {
        return frameAddr;
    }

    /** The UMEM this view reads and writes. */
    public MemorySegment umem() {
        return umem;
    }

    /** Empties the packet by moving the tail down to the head; the head stays. */
    public void clear() {
        tail = head;
    }

    /** True if the next descriptor continues this packet (multi-buffer, {@link #XDP_PKT_CONTD}). */
    public boolean isContinued() {
        return (options & XDP_PKT_CONTD) != 0;
    }

    /** Sets or clears {@link #XDP_PKT_CONTD}, for sending a packet spread over several frames. */
    public void setContinued(boolean continued) {
        options = continued ? options | XDP_PKT_CONTD : options & ~XDP_PKT_CONTD;
    }

    /** True if the socket was set up for TX checksum offload ({@link #TX_OFFLOAD_CHECKSUM}). */
    public boolean canOffloadChecksum() {
        return (txOffloads & TX_OFFLOAD_CHECKSUM) != 0;
    }

    /** True if the socket was set up for TX timestamps ({@link #TX_OFFLOAD_TIMESTAMP}). */
    public boolean canRequestTimestamp() {
        return (txOffloads & TX_OFFLOAD_TIMESTAMP) != 0;
    }

    /**
     * Moves the head by {@code diff} bytes, like {@code bpf_xdp_adjust_head}: a negative diff grows
     * the packet down into the headroom (e.g. to prepend headers), a positive one drops bytes from the
     * front. The bytes themselves are not touched.
     *
     * @throws PacketException {@link PacketException.Kind#INSUFFICIENT_HEADROOM} if {@code -diff} exceeds
     *         {@link #head()}; {@link PacketException.Kind#INVALID_PACKET_LENGTH} if {@code diff}
     *         exceeds {@link #len()}
     */
    public void adjustHead(int diff) {
        if (diff < 0) {
            long down = -(long) diff;
            if (down > head) {
                throw PacketException.insufficientHeadroom(down, head);
            }
            head -= (int) down;
        } else {
            if (diff > tail - head) {
                throw PacketException.invalidPacketLength();
            }
            head += diff;
        }
    }

    /**
     * Moves the tail by {@code diff} bytes, like {@code bpf_xdp_adjust_tail}: a positive diff exposes
     * tailroom bytes as they are (not zeroed), a negative one truncates.
     *
     * <p>Shrinking past the head is reported as {@link PacketException.Kind#INVALID_PACKET_LENGTH}
     * (the seed crate says "insufficient headroom", but the headroom is not involved: the tail
     * would pass the head).
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_PACKET_LENGTH} if {@code -diff}
     *         exceeds {@link #len()} or {@code diff} exceeds {@link #tailroom()}
     */
    public void adjustTail(int diff) {
        if (diff < 0) {
            if (-(long) diff > tail - head) {
                throw PacketException.invalidPacketLength();
            }
            tail += diff;
        } else {
            if (diff > capacity - tail) {
                throw PacketException.invalidPacketLength();
            }
            tail += diff;
        }
    }

    /**
     * Points {@code view} at the header at {@code offset}, after checking that its
     * {@link Header#size()} bytes lie within the packet, and returns it. Nothing is copied: reads and
     * writes through the view act on the packet. On failure the view's position is unspecified.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_OFFSET} if {@code offset} is beyond
     *         {@link #len()}; {@link PacketException.Kind#INSUFFICIENT_DATA} if the header runs past it
     */
    public <H extends Header> H read(int offset, H view) {
        int minSize = view.minSize();
        long at = checkRange(offset, minSize);
        view.bind(umem, at, len() - offset);
        int size = view.size();
        if (size != minSize) {
            checkRange(offset, size);
        }
        return view;
    }

    /**
     * Copies the {@link Header#size()} bytes {@code header} points at (e.g. a prepared template) into
     * the packet at {@code offset}; bytes around them are untouched.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_OFFSET} if {@code offset} is beyond
     *         {@link #len()}; {@link PacketException.Kind#INSUFFICIENT_DATA} if the header runs past it
     */
    public void write(int offset, Header header) {
        int size = header.size();
        long at = checkRange(offset, size);
        MemorySegment.copy(header.segment(), header.offset(), umem, at, size);
    }

    /**
     * Copies {@code dst.length} bytes starting at {@code offset} into {@code dst}.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_OFFSET} if {@code offset} is beyond
     *         {@link #len()}; {@link PacketException.Kind#INSUFFICIENT_DATA} if the bytes run past it
     */
    public void arrayAtOffset(int offset, byte[] dst) {
        long at = checkRange(offset, dst.length);
        MemorySegment.copy(umem, ValueLayout.JAVA_BYTE, at, dst, 0, dst.length);
    }

    /**
     * A segment over the {@code length} bytes starting at {@code offset}: a view, not a copy, valid
     * until the packet changes. Allocates the view object.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_OFFSET} if {@code offset} is beyond
     *         {@link #len()}; {@link PacketException.Kind#INSUFFICIENT_DATA} if the bytes run past it
     */
    public MemorySegment sliceAtOffset(int offset, int length) {
        return umem.asSlice(checkRange(offset, length), length);
    }

    /**
     * Inserts {@code src} at {@code offset}, shifting the bytes from {@code offset} to the tail up by
     * {@code src.length}.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_PACKET_LENGTH} if the packet would
     *         outgrow its capacity; {@link PacketException.Kind#INVALID_OFFSET} if {@code offset} is
     *         beyond {@link #len()}
     */
    public void insert(int offset, byte[] src) {
        long at = openGap(offset, src.length);
        MemorySegment.copy(src, 0, umem, ValueLayout.JAVA_BYTE, at, src.length);
    }

    /**
     * Inserts the bytes of {@code src} at {@code offset}, as {@link #insert(int, byte[])}.
     * {@code src} must not overlap this packet.
     */
    public void insert(int offset, MemorySegment src) {
        long at = openGap(offset, src.byteSize());
        MemorySegment.copy(src, 0, umem, at, src.byteSize());
    }

    /**
     * Appends {@code src} at the tail.
     *
     * @throws PacketException {@link PacketException.Kind#INVALID_PACKET_LENGTH} if the packet would
     *         outgrow its capacity
     */
    public void append(byte[] src) {
        insert(len(), src);
    }

    /** Appends the bytes of {@code src} at the tail, as {@link #append(byte[])}. */
    public void append(MemorySegment src) {
        insert(len(), src);
    }

    /**
     * Writes {@code struct xsk_tx_metadata} into the {@value #TX_METADATA_LEN} bytes just below the
     * head and sets {@link #XDP_TX_METADATA}, asking the device to complete an L4 checksum and/or to
     * report a TX timestamp. Call it once the head is final: moving the head down later overwrites it.
     *
     * <p>For checksum offload the L4 checksum field must already hold the pseudo-header sum (see
     * {@link Checksum#udpPartial(Ipv4Hdr, UdpHdr)}); the device sums from {@code csumStart} (counted
     * from the head) to the end and stores the result {@code csumOffset} bytes after
     * {@code csumStart}. For UDP after untagged Ethernet and IPv4: {@code setTxMetadata(34, 6, false)}.
     * Requesting nothing clears {@link #XDP_TX_METADATA} and writes nothing.
     *
     * @param csumStart where checksumming starts, or {@link #NO_CHECKSUM}
     * @param csumOffset where the checksum goes, from {@code csumStart}; ignored without a checksum
     * @param requestTimestamp whether to ask for the TX timestamp on completion
     * @throws PacketException {@link PacketException.Kind#CHECKSUM_UNSUPPORTED} or
     *         {@link PacketException.Kind#TIMESTAMP_UNSUPPORTED} if the socket lacks the offload
     * @throws IllegalArgumentException if {@code csumStart} or {@code csumOffset} is not a u16
     * @throws IllegalStateException if this view points at no frame yet
     */
    public void setTxMetadata(int csumStart, int csumOffset, boolean requestTimestamp) {
        boolean checksum = csumStart != NO_CHECKSUM;
        if (checksum && !canOffloadChecksum()) {
            throw PacketException.checksumUnsupported();
        }
        if (requestTimestamp && !canRequestTimestamp()) {
            throw PacketException.timestampUnsupported();
        }
        if (checksum && ((csumStart & ~0xFFFF) != 0 || (csumOffset & ~0xFFFF) != 0)) {
            throw new IllegalArgumentException("csumStart " + csumStart + " and csumOffset " + csumOffset
                    + " must be in [0, 65535]");
        }
        if (capacity == 0) {
            throw new IllegalStateException("not pointing at a frame; call reset first");
        }
        if (!checksum && !requestTimestamp) {
            options &= ~XDP_TX_METADATA;
            return;
        }
        long meta = addr() - TX_METADATA_LEN;
        long flags = (checksum ? TXMD_FLAGS_CHECKSUM : 0) | (requestTimestamp ? TXMD_FLAGS_TIMESTAMP : 0);
        umem.set(ValueLayout.JAVA_LONG_UNALIGNED, meta, flags);
        umem.set(ValueLayout.JAVA_LONG_UNALIGNED, meta + 8, 0L);
        umem.set(ValueLayout.JAVA_LONG_UNALIGNED, meta + 16, 0L);
        if (checksum) {
            umem.set(ValueLayout.JAVA_SHORT_UNALIGNED, meta + TXMD_CSUM_START, (short) csumStart);
            umem.set(ValueLayout.JAVA_SHORT_UNALIGNED, meta + TXMD_CSUM_START + 2, (short) csumOffset);
        }
        options |= XDP_TX_METADATA;
    }

    @Override
    public String toString() {
        return "XdpPacket(frame=" + frameAddr + ", head=" + head + ", tail=" + tail + ", capacity=" + capacity
                + ", options=0x" + Integer.toHexString(options) + ')';
    }

    /**
     * Checks that {@code size} bytes at {@code offset} lie within the packet and returns the UMEM
     * offset of the first. The reported {@code length} is always {@link #len()}: the seed crate
     * reported {@code tail - offset}, which mixes frame and packet coordinates and can underflow.
     */
    private long checkRange(int offset, long size) {
        int length = tail - head;
        if (offset < 0 || offset >= SANITY_LIMIT || offset > length) {
            throw PacketException.invalidOffset(offset, length);
        }
        if (size < 0 || size >= SANITY_LIMIT || offset + size > length) {
            throw PacketException.insufficientData(offset, size, length);
        }
        return data + head + offset;
    }

    /**
     * Makes room for {@code size} bytes at {@code offset} and returns the UMEM offset of the gap.
     * The offset is checked against the length, not the tail as in the seed crate, and only the
     * {@code len - offset} bytes after it move (the seed moved {@code tail - offset}, which runs past
     * the packet whenever there is headroom).
     */
    private long openGap(int offset, long size) {
        if (size > SANITY_LIMIT || size > capacity - tail) {
            throw PacketException.invalidPacketLength();
        }
        int length = tail - head;
        if (offset < 0 || offset >= SANITY_LIMIT || offset > length) {
            throw PacketException.invalidOffset(offset, length);
        }
        long at = data + head + offset;
        MemorySegment.copy(umem, at, umem, at + size, length - offset);
        tail += (int) size;
        return at;
    }
}
