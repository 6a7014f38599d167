package org.nettyxdp.bpf;

import java.net.InetAddress;
import java.util.BitSet;

/**
 * Everything one interface needs to steer UDP into AF_XDP sockets: one {@link XskMap}
 * ({@code maxSlots * numQueues} entries), one {@link PortMap}, one {@link UdpSteeringProgram} and
 * the {@link XdpLink} that attaches it. Channels on the interface share it; each takes a slot
 * ({@link #allocateSlot()}), registers its socket for every queue and then its port.
 *
 * <pre>{@code
 * try (XdpSteering steering = XdpSteering.open(ifindex, numQueues, 64, 1024, XdpMode.AUTO, false)) {
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
 * <p>{@link #close()} detaches (closes the link) first, then closes program and maps. Map updates
 * are thread-safe; slot allocation is synchronized.
 */
public final class XdpSteering implements AutoCloseable {
    private final int ifindex;
    private final int numQueues;
    private final int maxSlots;
    private final PortMap ports;
    private final XskMap xsks;
    private final BpfProgram program;
    private final XdpLink link;
    private final BitSet slots = new BitSet();

    private XdpSteering(int ifindex, int numQueues, int maxSlots, PortMap ports, XskMap xsks, BpfProgram program,
                        XdpLink link) {
        this.ifindex = ifindex;
        this.numQueues = numQueues;
        this.maxSlots = maxSlots;
        this.ports = ports;
        this.xsks = xsks;
        this.program = program;
        this.link = link;
    }

    /**
     * Creates the maps, loads the steering program (fallback {@code XDP_PASS}) and attaches it.
     *
     * @param ifindex   the interface
     * @param numQueues its number of RX queues (combined channels)
     * @param maxSlots  how many channels can share the interface
     * @param maxPorts  how many (port, address) entries can be steered at once
     * @param mode      attach mode; {@link XdpMode#DRV} fails with a clear message where unsupported
     * @param frags     load with multi-buffer support (needed if any channel binds with XDP_USE_SG or the
     *                  MTU exceeds a page)
     * @throws BpfException if any step fails; whatever was created is closed again
     */
    public static XdpSteering open(int ifindex, int numQueues, int maxSlots, int maxPorts, XdpMode mode,
                                   boolean frags) throws BpfException {
        if (numQueues < 1 || maxSlots < 1 || maxPorts < 1) {
            throw new IllegalArgumentException("numQueues, maxSlots and maxPorts must be >= 1");
        }
        int entries = Math.multiplyExact(numQueues, maxSlots);
        PortMap ports = null;
        XskMap xsks = null;
        BpfProgram program = null;
        try {
            ports = PortMap.create("nx_ports_" + ifindex, maxPorts);
            xsks = XskMap.create("nx_xsks_" + ifindex, entries);
            program = UdpSteeringProgram.load(ports, xsks, numQueues, XdpAction.PASS, frags);
            XdpLink link = XdpLink.attach(program, ifindex, mode);
            return new XdpSteering(ifindex, numQueues, maxSlots, ports, xsks, program, link);
        } catch (BpfException | RuntimeException e) {
            closeQuietly(program);
            closeQuietly(xsks);
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

    /** {@link #putPort(int, InetAddress, int, int)} for any destination address (the port's wildcard entry). */
    public void putPort(int port, int slot, int maxFrameLen) throws BpfException {
        putPort(port, null, slot, maxFrameLen);
    }

    /**
     * Steers UDP to {@code bound:port} into {@code slot}. Several slots can share a port with different
     * bound addresses; a frame goes to the entry of its destination address if there is one, else to the
     * port's wildcard entry if there is one, else to the kernel.
     *
     * @param bound       the channel's bound address, or {@code null} (or a wildcard address) for the
     *                    port's wildcard entry
     * @param maxFrameLen longest frame the slot's UMEM frames take; longer ones go to the kernel. 0 = no
     *                    limit (multi-buffer sockets; the program must have been opened with frags)
     */
    public void putPort(int port, InetAddress bound, int slot, int maxFrameLen) throws BpfException {
        checkSlot(slot);
        ports.put(port, bound, slot, maxFrameLen);
    }

    /** Removes the port's wildcard entry; returns {@code false} if there was none. */
    public boolean removePort(int port) throws BpfException {
        return removePort(port, null);
    }

    /**
     * Stops steering {@code bound:port} ({@code bound} null or wildcard: the port's wildcard entry);
     * entries for other addresses stay. Returns {@code false} if the entry did not exist.
     */
    public boolean removePort(int port, InetAddress bound) throws BpfException {
        return ports.remove(port, bound);
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

    public XskMap xsks() {
        return xsks;
    }

    public BpfProgram program() {
        return program;
    }

    public XdpLink link() {
        return link;
    }

    /** Detaches the program, then closes program, port map and XSKMAP; idempotent. */
    @Override
    public void close() {
        link.close();
        program.close();
        ports.close();
        xsks.close();
    }
}
