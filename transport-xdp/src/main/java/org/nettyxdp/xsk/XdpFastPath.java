package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.channel.socket.DatagramPacket;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.buffer.UmemByteBuf;
import org.nettyxdp.buffer.UmemFramePool;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.XdpPacket;
import org.nettyxdp.socket.XdpStatistics;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The AF_XDP side of one datagram channel on one interface: a socket on every RX queue
 * ({@link QueueSocket}), the port's entry in the interface's steering program, RX
 * ({@link FastPathReceiver}) and TX ({@link FastPathTransmitter}), kept in step with the link, its
 * addresses and next hops.
 *
 * <p>RX parses and validates Ethernet (one VLAN tag), IPv4 or IPv6 and UDP headers, then hands the
 * payload on as a {@link UmemByteBuf} over the frame (no copy), or as a copy when the application
 * already holds too many frames. TX writes the headers into a frame (in place, in front of the
 * payload, when the payload already sits in one of our frames with enough headroom), computes the
 * checksums, and queues it; {@link #flush()} publishes the batch and kicks the kernel once.
 *
 * <p>Event-loop confined, except where noted.
 */
public final class XdpFastPath {
    /** Receives the datagrams {@link #receive} produces. */
    public interface DatagramSink {
        /** One valid datagram; the sink owns it. Returns false to stop the batch. */
        boolean datagram(DatagramPacket packet);
    }

    /** Outcome of {@link #send}. */
    public enum SendResult {
        /** Queued on a TX ring; sent at the next {@link #flush()}. */
        QUEUED,
        /** No TX slot or free frame now: retry after the kernel completes sends. */
        NO_ROOM,
        /** Not for the fast path (family, destination, size, no next hop): use the kernel socket. */
        SLOW_PATH
    }

    /** Room reserved in front of a frame buffer's data: the largest header stack the fast path writes. */
    public static final int FRAME_BUFFER_HEADROOM = UdpFrameWriter.IPV6_HEADERS;

    private final XdpInterface iface;
    /** Set once the fast path has joined its port's group (read by the network follower's thread). */
    private volatile PortGroup group;
    private final PortGroup.Member membership = new PortGroup.Member() {
        @Override
        public int socketFd(int queue) {
            return queues[queue].fd();
        }

        @Override
        public void assign(boolean[] ownedQueues, int tx) {
            owned = ownedQueues;
            txQueue = tx;
        }
    };
    /** RX queues steered to this channel's sockets; replaced whole by the group (any thread). */
    private volatile boolean[] owned;
    /** The queue this channel transmits on; set by the group (any thread). */
    private volatile int txQueue;
    private final int port;
    /** The addresses of the channel's steering entries with {@link #port} (wildcards: one per family). */
    private final List<InetAddress> steered;
    private final QueueSocket[] queues;
    private final FastPathCounters counters = new FastPathCounters();
    private final NextHops nextHops;
    /** Whether the link was up at its last change (event loop): next hops are looked up afresh when it comes up. */
    private boolean linkUp;
    /** False while the bound address is not configured on the interface: nothing is steered or sent. */
    private boolean addressPresent = true;
    private final UdpFrameParser parser;
    private final UdpFrameWriter writer;
    private final FastPathReceiver receiver;
    private final FastPathTransmitter transmitter;
    /** The longest frame the UMEM frames take (single-buffer sockets). */
    private final int frameLimit;
    /**
     * The longest frame the program steers here now (0: any length): at most the link's MTU plus a tagged
     * Ethernet header, and {@link #frameLimit} without multi-buffer. Written by the network follower.
     */
    private volatile int steeringLimit;
    /** When the fast path was opened ({@link System#nanoTime()}): older reports of the link predate it. */
    private final long openedNanos = System.nanoTime();
    /** Every queue takes and sends descriptor chains ({@code XDP_USE_SG}, program with frags). */
    private final boolean multiBuffer;
    /** Set once {@link #close()} was asked for: no new work starts. Volatile for {@link #frameBuffer()}. */
    private volatile boolean closed;
    /** Nesting depth of {@link #receive}: rings must stay mapped while positive. */
    private int busy;
    private boolean released;

    XdpFastPath(XdpInterface iface, InetSocketAddress local, InetAddress boundIp, List<InetAddress> steered,
                QueueSocket[] queues, FastPathSettings settings, boolean multiBuffer) throws IOException {
        this.multiBuffer = multiBuffer;
        this.iface = iface;
        this.owned = new boolean[queues.length];
        this.port = local.getPort();
        this.steered = steered;
        int boundIpv4 = boundIp instanceof Inet4Address ? toInt(boundIp.getAddress()) : 0;
        byte[] boundIpv6 = boundIp instanceof Inet6Address ? boundIp.getAddress() : null;
        boolean accept4 = steered.stream().anyMatch(a -> a instanceof Inet4Address);
        boolean accept6 = steered.stream().anyMatch(a -> a instanceof Inet6Address);
        this.queues = queues;
        LinkInfo link = iface.link();
        this.nextHops = new NextHops(link.index(), link.isLoopback());
        this.linkUp = link.isUp();
        long ifMac = link.mac() == null ? 0 : link.mac().toLong();
        this.parser = new UdpFrameParser(port, boundIpv4, boundIpv6, accept4, accept6, ifMac,
                !link.isLoopback() && ifMac != 0, link.index(), link.isLoopback(), iface::locals);
        this.writer = new UdpFrameWriter(port, boundIpv4, boundIpv6, ifMac);
        this.frameLimit = settings.umem().maxRxFrameLength();
        this.steeringLimit = steeringLimit(link);
        int frameCapacity = settings.umem().frameSize() - XdpPacket.XDP_PACKET_HEADROOM;
        // the kernel receives into each frame less both headrooms: that bounds the longest valid chain
        this.receiver = new FastPathReceiver(queues, parser, counters, settings, local, multiBuffer,
                new FrameChain(frameLimit));
        this.transmitter = new FastPathTransmitter(queues, counters, settings, nextHops, writer, boundIpv4,
                boundIpv6, accept4, accept6, multiBuffer, link.mtu(), new FrameChain(frameCapacity));
    }

    /** Closes what the constructor opened beside the queues (its next hops), after a failed {@link #join}. */
    void discardAfterFailedJoin() {
        nextHops.close();
    }

    /** Joins the port's group, which points the queues at this fast path, up to {@link #steeringLimit}. */
    void join(boolean reusePort) throws IOException {
        group = iface.join(port, steered, reusePort, steeringLimit, membership);
    }

    /**
     * The longest frame to steer here on {@code link} (0: any length). A frame longer than the MTU plus
     * a (tagged) Ethernet header is no datagram the link carried as one frame: in generic mode it is
     * the kernel's aggregate of several (a UDP GSO send from this host, GRO), which a kernel socket
     * receives as its segments, so the kernel takes it. Without multi-buffer the UMEM frame bounds it
     * too. {@code lo} carries 64 KiB datagrams and aggregates alike: no MTU limit there.
     */
    int steeringLimit(LinkInfo link) {
        int mtuLimit = link.isLoopback() || link.mtu() <= 0 ? 0 : link.mtu() + EthHdr.TAGGED_LEN;
        if (multiBuffer) {
            return mtuLimit;
        }
        return mtuLimit == 0 ? frameLimit : Math.min(frameLimit, mtuLimit);
    }

    /**
     * Follows an MTU change in the steering entries of this fast path's port: frames longer than the
     * new MTU go to the kernel. Any thread (the network follower's, off the event loop); blocks on bpf.
     */
    void followMtu(LinkInfo link) throws IOException {
        int limit = steeringLimit(link);
        if (limit == steeringLimit || released) {
            return;
        }
        steeringLimit = limit; // before the join too: join() steers with the limit of the latest MTU
        PortGroup g = group;
        if (g != null) {
            iface.setPortLimit(port, steered, g.slot(), limit);
        }
    }

    /**
     * {@link #open(LinkInfo, InetSocketAddress, InetAddress, boolean, FastPathSettings)} of a dual-stack
     * channel ({@code IPV6_V6ONLY} off, the companion socket's setting): an IPv6 wildcard channel also
     * takes IPv4.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp,
                                   FastPathSettings settings) throws IOException {
        return open(link, local, boundIp, false, settings);
    }

    /**
     * Binds a socket on every RX queue of {@code link} and steers UDP port {@code port} to them, for
     * what the kernel would deliver to the channel's socket (see {@link FastPathOpening}). A queue still
     * busy from a socket closed moments ago is waited for, parking this thread (at most 2 s): off the
     * event loop only; an event loop uses a {@link FastPathOpening} and retries later instead.
     */
    public static XdpFastPath open(LinkInfo link, InetSocketAddress local, InetAddress boundIp, boolean v6Only,
                                   FastPathSettings settings) throws IOException {
        return new FastPathOpening(link, local, boundIp, v6Only, settings).await();
    }

    /**
     * Re-reads the host's addresses (rtnetlink) for every interface the process steers on: what the
     * programs take as local destinations and what the channels drop as their own (martian) sources.
     * Addresses are read when a channel binds; call this when they change later (an address
     * notification). Any thread; may block on netlink.
     */
    public static void refreshLocalAddresses() {
        XdpInterface.refreshAll();
    }

    /** True if the steering program runs in native (driver) mode, false for generic (SKB) mode. */
    public boolean isNativeMode() {
        return iface.attachedMode() == XdpMode.DRV;
    }

    /** True if the kernel bound queue {@code q} in zero-copy mode ({@code XDP_OPTIONS}). */
    public boolean isZeroCopy(int q) {
        return queues[q].queue.isZeroCopy();
    }

    /** True if queue {@code q}'s socket bound with {@code XDP_USE_NEED_WAKEUP}. */
    public boolean isNeedWakeup(int q) {
        return queues[q].queue.needsWakeupFlag();
    }

    /** True if queue {@code q}'s socket takes multi-buffer frames ({@code XDP_USE_SG}). */
    public boolean isMultiBuffer(int q) {
        return queues[q].queue.isMultiBuffer();
    }

    /** True if datagrams larger than one frame use this fast path (every queue multi-buffer). */
    public boolean isMultiBuffer() {
        return multiBuffer;
    }

    String describeQueues() {
        StringBuilder b = new StringBuilder();
        for (int q = 0; q < queues.length; q++) {
            b.append(q == 0 ? "" : "; ").append("queue ").append(q).append(isZeroCopy(q) ? " zero-copy" : " copy")
                    .append(isNeedWakeup(q) ? ", need-wakeup" : ", no need-wakeup")
                    .append(isMultiBuffer(q) ? ", multi-buffer" : ", single-buffer");
        }
        return b.toString();
    }

    /** Descriptors to watch for received frames, one per queue. */
    public int queueCount() {
        return queues.length;
    }

    public int socketFd(int queue) {
        return queues[queue].fd();
    }

    /** Index of the queue whose socket is {@code fd}, or -1. */
    public int queueOf(int fd) {
        return QueueSocket.indexOf(queues, fd);
    }

    public LinkInfo link() {
        return iface.link();
    }

    /** True if RX queue {@code queue} is steered to this channel now. Any thread. */
    public boolean ownsQueue(int queue) {
        return owned[queue];
    }

    /** The queue this channel transmits on. Any thread. */
    public int txQueue() {
        return txQueue;
    }

    /** Datagrams received from RX queue {@code queue}. Event loop. */
    public long rxPackets(int queue) {
        return queues[queue].rxPackets;
    }

    /** Datagrams queued for sending on queue {@code queue}. Event loop. */
    public long txPackets(int queue) {
        return queues[queue].txPackets;
    }

    /** The interface index this fast path runs on. */
    public int ifindex() {
        return iface.link().index();
    }

    /** True if {@code buf} is a frame of one of this fast path's UMEMs. */
    boolean owns(UmemByteBuf buf) {
        return QueueSocket.owns(queues, buf);
    }

    // ---------------------------------------------------------------------- network state (event loop)

    /**
     * Follows a change of the interface as the kernel reports it: its MAC is the frames' source and
     * the destination RX accepts, its MTU bounds what TX sends. Next hops are looked up again.
     */
    void linkChanged(LinkInfo link) {
        long mac = link.mac() == null ? 0 : link.mac().toLong();
        parser.setInterfaceMac(mac, !link.isLoopback() && mac != 0);
        writer.setInterfaceMac(mac);
        transmitter.setMtu(link.mtu());
        if (link.isUp() && !linkUp) {
            // while the link is down nothing leaves it anyway: the hops stay, and what is queued waits
            // for the link (or the TX drain timeout) instead of leaving by another route; once it is up
            // again they are looked up afresh. Other link changes (MTU, flags, statistics) leave next
            // hops as they are: clearing them would send every peer's next reply through the kernel socket
            nextHops.clear();
        }
        linkUp = link.isUp();
    }

    /**
     * Re-reads the local addresses of this fast path's interface (its steering program's map and the
     * martian filter) from rtnetlink in the calling thread's namespace. Any thread; blocks on netlink.
     */
    void refreshInterfaceAddresses() throws IOException {
        iface.refreshLocalAddresses();
    }

    /** When this fast path was opened, as {@link System#nanoTime()}. */
    long openedNanos() {
        return openedNanos;
    }

    /** The interface was deleted or its program detached: later channels attach afresh. */
    void defunct() {
        iface.defunct();
    }

    /** Forgets the cached next hops: a neighbour or route changed. */
    void invalidateNextHops() {
        nextHops.clear();
    }

    /**
     * Follows the bound address: while it is not configured here, its datagrams are not steered
     * (the kernel decides about them, as for any address not ours) and nothing is sent from it.
     * No-op for the wildcard address.
     */
    void setAddressPresent(boolean present) throws IOException {
        if (steered.size() != 1 || steered.get(0).isAnyLocalAddress() || present == addressPresent || released) {
            return;
        }
        addressPresent = present;
        if (present) {
            iface.addPort(port, steered, group.slot(), steeringLimit);
        } else {
            iface.removePort(port, steered.get(0), group.slot());
        }
        nextHops.clear();
    }

    /** Whether the bound address (if any) is configured on the interface. */
    boolean addressPresent() {
        return addressPresent;
    }

    /** Restricts RX to datagrams from {@code peer} (null: from anyone). */
    public void connect(InetSocketAddress peer) {
        parser.connect(peer);
    }

    // ------------------------------------------------------------------------------------------ RX

    /**
     * Takes up to {@code max} frames from queue {@code q}'s RX ring, validates them and passes the
     * datagrams to {@code sink}. Returns the number of frames taken (valid or not).
     */
    public int receive(int q, int max, DatagramSink sink) {
        if (closed) {
            return 0;
        }
        busy++;
        try {
            return receiver.receive(q, max, sink);
        } finally {
            // whatever failed, a close asked for during the batch still happens
            if (--busy == 0 && closed) {
                release();
            }
        }
    }

    /**
     * Test access: what {@link #receive} does with descriptor {@code (addr, len)} on queue {@code q},
     * up to the parse; the frame, if valid, is returned to the pool. Event loop (or test) thread.
     */
    boolean takeDescriptorForTest(int q, long addr, int len) {
        UmemFramePool pool = queues[q].pool;
        boolean valid = receiver.takeDescriptor(pool, addr, len);
        if (valid) {
            pool.dropReceived(addr);
        }
        return valid;
    }

    /** Queue {@code q}'s socket, for tests that play the kernel's side of its rings. */
    QueueSocket queueForTest(int q) {
        return queues[q];
    }

    // ------------------------------------------------------------------------------------------ TX

    /**
     * A buffer over a free frame of the TX queue, with headroom for the headers, or null when the pool
     * has no frame to spare or this fast path is closed. Any thread, also concurrently with
     * {@link #close()}: the pool hands out no frame once closed, and stays mapped while a buffer it
     * handed out is held.
     */
    public UmemByteBuf frameBuffer() {
        if (closed) {
            return null;
        }
        UmemFramePool pool = queues[txQueue].pool;
        return pool.allocate(FRAME_BUFFER_HEADROOM, pool.frameCount() / 4);
    }

    /**
     * Queues {@code content} to {@code recipient} (not yet published: see {@link #flush()}). Does not
     * take ownership of {@code content}; the caller releases it as usual.
     */
    public SendResult send(ByteBuf content, InetSocketAddress recipient) {
        if (closed || !addressPresent) {
            return SendResult.SLOW_PATH;
        }
        return transmitter.send(content, recipient, txQueue);
    }

    /** Publishes every queued frame and asks the kernel to send them; reaps completed frames. */
    public void flush() {
        if (released) {
            return;
        }
        transmitter.flush(owned);
    }

    // ------------------------------------------------------------------------------------- lifecycle

    /** This fast path's counters. */
    public FastPathCounters counters() {
        return counters;
    }

    /** Kernel counters summed over the channel's sockets. */
    public XdpStatistics statistics() {
        return QueueSocket.statistics(queues);
    }

    /** Where the frames of each queue's UMEM are. */
    public FrameAccounting[] accounting() {
        return QueueSocket.accounting(queues);
    }

    /**
     * Stops steering the port here, sends what is queued, returns every frame still in this
     * channel's rings to the pool, then closes the sockets and leaves the queues and the interface.
     * Called from inside {@link #receive} (a handler closing its channel), the teardown waits until
     * the batch is done, so no ring is unmapped under the loop. Idempotent.
     */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        receiver.stop();
        if (busy == 0) {
            release();
        }
    }

    private void release() {
        if (released) {
            return;
        }
        try {
            flush();
        } finally {
            released = true;
            // first of all, and whatever fails later: no datagram may be steered to sockets nobody reads
            // (the group's other channels take this one's queues over, or the last one removes the port)
            iface.leave(port, steered, group, membership);
            releaseQueues();
        }
    }

    private void releaseQueues() {
        try {
            for (QueueSocket qs : queues) {
                try {
                    receiver.drain(qs);
                    qs.reap(counters);
                } finally {
                    qs.close();
                }
            }
        } finally {
            nextHops.close();
            iface.release();
        }
    }

    static int toInt(byte[] a) {
        return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
    }
}
