package org.nettyxdp.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.BitSet;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Everything one interface needs to steer UDP into AF_XDP sockets: one {@link XskMap}
 * ({@code maxSlots * numQueues} entries), one {@link PortMap}, one {@link LocalAddressMap} (the
 * destinations the program takes at all: fill it before steering a port), one
 * {@link UdpSteeringProgram} and the {@link XdpLink} that attaches it. Channels on the interface share it; each takes a slot
 * ({@link #allocateSlot()}), registers its socket for every queue and then its port.
 *
 * <pre>{@code
 * try (XdpSteering steering = XdpSteering.open(ifindex, mac, numQueues, 64, 1024, XdpMode.AUTO, false)) {
 *     steering.locals().add(boundIp);                // the host's addresses
 *     int slot = steering.allocateSlot();
 *     for (int q = 0; q < numQueues; q++) {
 *         steering.setSocket(slot, q, xskFd[q]);     // sockets first ...
 *     }
 *     steering.putPort(9000, boundIp, slot, frameLen); // ... then the port: traffic starts here
 *     ...
 *     steering.removePort(9000, boundIp);            // port first: traffic goes to the kernel
 *     for (int q = 0; q < numQueues; q++) {
 *         steering.clearSocket(slot, q);             // then the sockets, then close the XSKs
 *     }
 *     steering.releaseSlot(slot);
 * }
 * }</pre>
 *
 * <p>Raw channels share the attachment: they take raw slots ({@link #allocateRawSlot()}), register
 * their sockets in a second XSKMAP ({@link #rawXsks()}, same indexing) and their filters with
 * {@link #setRawFilters}, which loads a {@link RawFilterProgram} into the program array the steering
 * program tail-calls for every frame it does not steer (so datagram ports come first, then the raw
 * filters in order, then the kernel).
 *
 * <p>{@link #close()} detaches (closes the link) first, then closes program and maps. Map updates
 * are thread-safe; slot allocation is synchronized.
 */
public final class XdpSteering implements AutoCloseable {
    /** The index in {@link #rawPrograms()} the steering program tail-calls. */
    public static final int RAW_PROGRAM_INDEX = 0;

    private final int ifindex;
    private final int numQueues;
    private final int maxSlots;
    private final PortMap ports;
    private final LocalAddressMap locals;
    private final XskMap xsks;
    private final BpfProgram program;
    private final XdpLink link;
    private final BitSet slots = new BitSet();
    private final BitSet rawSlots = new BitSet();
    private final XskMap rawXsks;
    private final BpfMap rawPrograms;
    private final boolean frags;
    private BpfProgram rawProgram;

    private XdpSteering(int ifindex, int numQueues, int maxSlots, PortMap ports, LocalAddressMap locals,
                        XskMap xsks, BpfProgram program, XdpLink link, XskMap rawXsks, BpfMap rawPrograms,
                        boolean frags) {
        this.rawXsks = rawXsks;
        this.rawPrograms = rawPrograms;
        this.frags = frags;
        this.ifindex = ifindex;
        this.numQueues = numQueues;
        this.maxSlots = maxSlots;
        this.ports = ports;
        this.locals = locals;
        this.xsks = xsks;
        this.program = program;
        this.link = link;
    }

    /**
     * Creates the maps, loads the steering program (fallback {@code XDP_PASS}) and attaches it.
     *
     * @param ifindex   the interface
     * @param mac       its MAC address (6 bytes, all zero on {@code lo}): only frames to it are steered
     * @param numQueues its number of RX queues (combined channels)
     * @param maxSlots  how many channels can share the interface
     * @param maxPorts  how many (port, address) entries can be steered at once; as many local addresses
     *                  can be known
     * @param mode      attach mode; {@link XdpMode#DRV} fails with a clear message where unsupported
     * @param frags     load with multi-buffer support (needed if any channel binds with XDP_USE_SG or the
     *                  MTU exceeds a page)
     * @throws BpfException if any step fails; whatever was created is closed again
     */
    public static XdpSteering open(int ifindex, byte[] mac, int numQueues, int maxSlots, int maxPorts,
                                   XdpMode mode, boolean frags) throws BpfException {
        if (numQueues < 1 || maxSlots < 1 || maxPorts < 1) {
            throw new IllegalArgumentException("numQueues, maxSlots and maxPorts must be >= 1");
        }
        int entries = Math.multiplyExact(numQueues, maxSlots);
        PortMap ports = null;
        LocalAddressMap locals = null;
        XskMap xsks = null;
        BpfProgram program = null;
        XskMap rawXsks = null;
        BpfMap rawPrograms = null;
        try {
            ports = PortMap.create("nx_ports_" + ifindex, maxPorts);
            locals = LocalAddressMap.create("nx_local_" + ifindex, maxPorts);
            xsks = XskMap.create("nx_xsks_" + ifindex, entries);
            rawXsks = XskMap.create("nx_rawxsk_" + ifindex, entries);
            rawPrograms = BpfMap.create(BpfCommand.MAP_TYPE_PROG_ARRAY, "nx_rawprog_" + ifindex, 4, 4, 1, 0);
            program = UdpSteeringProgram.load(ports, locals, xsks, rawPrograms, numQueues, mac, XdpAction.PASS,
                    frags);
            XdpLink link = XdpLink.attach(program, ifindex, mode);
            return new XdpSteering(ifindex, numQueues, maxSlots, ports, locals, xsks, program, link, rawXsks,
                    rawPrograms, frags);
        } catch (BpfException | RuntimeException e) {
            closeQuietly(program);
            closeQuietly(rawPrograms);
            closeQuietly(rawXsks);
            closeQuietly(xsks);
            closeQuietly(locals);
            closeQuietly(ports);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to add to the original failure
            }
        }
    }

    /** Takes a free slot. */
    public synchronized int allocateSlot() {
        int slot = slots.nextClearBit(0);
        if (slot >= maxSlots) {
            throw new IllegalStateException("all " + maxSlots + " steering slots of ifindex " + ifindex + " are in use");
        }
        slots.set(slot);
        return slot;
    }

    /** Returns a slot taken with {@link #allocateSlot()}. */
    public synchronized void releaseSlot(int slot) {
        checkSlot(slot);
        slots.clear(slot);
    }

    /** Points {@code (slot, queue)} at the bound AF_XDP socket {@code xskFd}. */
    public void setSocket(int slot, int queue, int xskFd) throws BpfException {
        checkSlot(slot);
        xsks.set(UdpSteeringProgram.xskIndex(slot, queue, numQueues), xskFd);
    }

    /** Removes the socket of {@code (slot, queue)}; its frames then go to the kernel. */
    public void clearSocket(int slot, int queue) throws BpfException {
        checkSlot(slot);
        xsks.clear(UdpSteeringProgram.xskIndex(slot, queue, numQueues));
    }

    /**
     * Steers UDP to {@code bound:port} into {@code slot}. Several slots can share a port with different
     * bound addresses; a frame to a local address goes to the entry of its destination address if there
     * is one, else to the port's wildcard entry of its family if there is one, else to the kernel.
     *
     * @param bound       the channel's bound address, or a wildcard address ({@code 0.0.0.0}, {@code ::})
     *                    for the port's wildcard entry of that family
     * @param maxFrameLen longest frame (all fragments) to steer to the slot: what its UMEM frames take,
     *                    at most the link's MTU plus the Ethernet header (longer: an aggregate the kernel
     *                    segments); longer ones go to the kernel. 0 = no limit
     */
    public void putPort(int port, InetAddress bound, int slot, int maxFrameLen) throws BpfException {
        checkSlot(slot);
        ports.put(port, bound, slot, maxFrameLen);
    }

    /**
     * Stops steering {@code bound:port} ({@code bound} a wildcard: the port's wildcard entry of its family);
     * entries for other addresses stay. Returns {@code false} if the entry did not exist.
     */
    public boolean removePort(int port, InetAddress bound) throws BpfException {
        return ports.remove(port, bound);
    }

    /** Takes a free raw-channel slot. */
    public synchronized int allocateRawSlot() {
        int slot = rawSlots.nextClearBit(0);
        if (slot >= maxSlots) {
            throw new IllegalStateException("all " + maxSlots + " raw slots of ifindex " + ifindex + " are in use");
        }
        rawSlots.set(slot);
        return slot;
    }

    /** Returns a slot taken with {@link #allocateRawSlot()}. */
    public synchronized void releaseRawSlot(int slot) {
        checkSlot(slot);
        rawSlots.clear(slot);
    }

    /** Points raw slot {@code slot} on {@code queue} at the bound AF_XDP socket {@code xskFd}. */
    public void setRawSocket(int slot, int queue, int xskFd) throws BpfException {
        checkSlot(slot);
        rawXsks.set(UdpSteeringProgram.xskIndex(slot, queue, numQueues), xskFd);
    }

    /** Removes the raw socket of {@code (slot, queue)}. */
    public void clearRawSocket(int slot, int queue) throws BpfException {
        checkSlot(slot);
        rawXsks.clear(UdpSteeringProgram.xskIndex(slot, queue, numQueues));
    }

    /**
     * Replaces the raw channels' filters, evaluated in the given order: loads their
     * {@link RawFilterProgram} and swaps it into the tail-call slot atomically (frames in flight see
     * the old or the new program). An empty list empties the slot: every frame the steering program
     * does not take goes to the kernel.
     */
    public synchronized void setRawFilters(List<RawFilterProgram.Entry> entries) throws BpfException {
        BpfProgram old = rawProgram;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocateFrom(JAVA_INT, RAW_PROGRAM_INDEX);
            if (entries.isEmpty()) {
                rawPrograms.delete(key);
                rawProgram = null;
            } else {
                for (RawFilterProgram.Entry e : entries) {
                    checkSlot(e.slot());
                }
                BpfProgram p = RawFilterProgram.load(entries, rawXsks, numQueues, XdpAction.PASS, frags);
                try {
                    rawPrograms.update(key, arena.allocateFrom(JAVA_INT, p.fd()), BpfCommand.BPF_ANY);
                } catch (BpfException e) {
                    p.close();
                    throw e;
                }
                rawProgram = p;
            }
        }
        if (old != null) {
            old.close();
        }
    }

    /** The XSKMAP of the raw channels' sockets. */
    public XskMap rawXsks() {
        return rawXsks;
    }

    /** The program array the steering program tail-calls ({@link #RAW_PROGRAM_INDEX}). */
    public BpfMap rawPrograms() {
        return rawPrograms;
    }

    /** The raw filter program in the tail-call slot now, or null. */
    public synchronized BpfProgram rawProgram() {
        return rawProgram;
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= maxSlots) {
            throw new IllegalArgumentException("slot " + slot + " outside [0, " + maxSlots + ")");
        }
    }

    public int ifindex() {
        return ifindex;
    }

    public int numQueues() {
        return numQueues;
    }

    public int maxSlots() {
        return maxSlots;
    }

    public PortMap ports() {
        return ports;
    }

    /** The host addresses the program takes frames for; keep it current (see {@link LocalAddressMap}). */
    public LocalAddressMap locals() {
        return locals;
    }

    public XskMap xsks() {
        return xsks;
    }

    public BpfProgram program() {
        return program;
    }

    public XdpLink link() {
        return link;
    }

    /** Detaches the program, then closes program, port map, local address map and XSKMAP; idempotent. */
    @Override
    public void close() {
        link.close();
        program.close();
        synchronized (this) {
            if (rawProgram != null) {
                rawProgram.close();
                rawProgram = null;
            }
        }
        rawPrograms.close();
        rawXsks.close();
        ports.close();
        locals.close();
        xsks.close();
    }
}
