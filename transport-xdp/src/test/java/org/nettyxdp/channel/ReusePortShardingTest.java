package org.nettyxdp.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Channels with {@link XdpChannelOption#SO_REUSEPORT} on one address and port split a multi-queue
 * veth's RX queues: each queue is served by exactly one channel, each channel gets only the flows of
 * its queues and replies on its own queue, every datagram arrives exactly once, and channels closing one
 * by one hand their queues to the ones left.
 *
 * <p>How flows reach queues here: veth puts a frame on the receiver's RX queue numbered like the TX
 * queue the sender's stack picked ({@code skb->queue_mapping}). Without XPS (veth sets none) the stack
 * picks the TX queue from the socket's random flow hash, so each sending socket (source port) keeps one
 * queue, and {@link #FLOWS} sockets cover every queue but with negligible probability
 * ({@code queues * (1 - 1/queues)^FLOWS} < 1e-7 for 4 queues).
 */
class ReusePortShardingTest {
    private static final int FLOWS = 64;
    private static final int PER_FLOW = 8;

    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(4);

    /** Records what one channel received (flow → count) and echoes it. */
    @ChannelHandler.Sharable
    private static final class Recorder extends SimpleChannelInboundHandler<DatagramPacket> {
        final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        final Set<Integer> flows = ConcurrentHashMap.newKeySet();

        Recorder() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
            seen.computeIfAbsent(msg.content().toString(StandardCharsets.UTF_8), k -> new AtomicInteger())
                    .incrementAndGet();
            flows.add(msg.sender().getPort());
            ctx.write(new DatagramPacket(msg.content(), msg.sender()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        int total() {
            return seen.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        void reset() {
            seen.clear();
            flows.clear();
        }
    }

    @Test
    void twoQueuesTwoChannels() throws Exception {
        run(2, 2);
    }

    @Test
    void fourQueuesFourChannels() throws Exception {
        run(4, 4);
    }

    @Test
    void fourQueuesTwoChannels() throws Exception {
        run(4, 2);
    }

    @Test
    void moreChannelsThanQueuesWaitForAQueue() throws Exception {
        run(2, 3);
    }

    @Test
    void aClosedChannelHandsItsQueuesBackAndAChannelWithoutTheOptionCannotJoin() throws Exception {
        VethPair pair = HOSTS.vethPair(2);
        XdpDatagramChannel a = bind(pair, 0, new Recorder(), true);
        XdpDatagramChannel b = bind(pair, a.localAddress().getPort(), new Recorder(), true);
        try {
            assertArrayEquals(new int[] {0}, a.fastPathQueues());
            assertArrayEquals(new int[] {1}, b.fastPathQueues());
        } finally {
            b.close().sync();
        }
        try {
            assertArrayEquals(new int[] {0, 1}, a.fastPathQueues(), "the remaining channel serves every queue");
            // the kernel refuses a socket without SO_REUSEPORT on that address and port, as it does for epoll
            Throwable refused = new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                    .handler(new Recorder()).bind(a.localAddress()).await().cause();
            assertTrue(refused != null, "bind without SO_REUSEPORT fails");
            assertArrayEquals(new int[] {0, 1}, a.fastPathQueues());
        } finally {
            a.close().sync();
        }
    }

    private static XdpDatagramChannel bind(VethPair pair, int port, Recorder handler, boolean reusePort)
            throws InterruptedException {
        return (XdpDatagramChannel) new Bootstrap().group(LOOPS.group()).channel(XdpDatagramChannel.class)
                .option(XdpChannelOption.SO_REUSEPORT, reusePort)
                .handler(handler).bind(new InetSocketAddress(pair.hostV4(), port)).sync().channel();
    }

    private static void run(int queues, int channels) throws Exception {
        VethPair pair = HOSTS.vethPair(queues);
        List<XdpDatagramChannel> open = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        try {
            int port = 0;
            for (int i = 0; i < channels; i++) {
                Recorder r = new Recorder();
                XdpDatagramChannel ch = bind(pair, port, r, true);
                assertTrue(ch.isFastPathActive(), "channel " + i + " on the fast path");
                port = ch.localAddress().getPort();
                open.add(ch);
                recorders.add(r);
            }
            try (Senders senders = pair.peer().call(() -> new Senders(pair, FLOWS))) {
                while (!open.isEmpty()) {
                    checkPartition(queues, open);
                    round(pair, senders, new InetSocketAddress(pair.hostV4(), port), queues, open, recorders);
                    // the first channel leaves; the others take its queues
                    open.remove(0).close().sync();
                    recorders.remove(0);
                }
            }
        } finally {
            for (XdpDatagramChannel ch : open) {
                ch.close().sync();
            }
        }
    }

    /** Every queue is steered to exactly one open channel, dealt out round robin. */
    private static void checkPartition(int queues, List<XdpDatagramChannel> open) {
        int[] owner = new int[queues];
        Arrays.fill(owner, -1);
        for (int c = 0; c < open.size(); c++) {
            int[] mine = open.get(c).fastPathQueues();
            int want = 0;
            for (int q = c; q < queues; q += open.size()) {
                want++;
            }
            assertEquals(want, mine.length, "channel " + c + " of " + open.size() + " owns " + Arrays.toString(mine));
            for (int q : mine) {
                assertEquals(-1, owner[q], "queue " + q + " owned twice");
                owner[q] = c;
            }
        }
        for (int q = 0; q < queues; q++) {
            assertTrue(owner[q] >= 0, "queue " + q + " has an owner among " + open.size() + " channels");
        }
    }

    /** Sends {@link #PER_FLOW} datagrams on each flow and checks who got them, and that the replies came. */
    private static void round(VethPair pair, Senders senders, InetSocketAddress to, int queues,
                              List<XdpDatagramChannel> open, List<Recorder> recorders) throws Exception {
        List<long[]> rxBefore = new ArrayList<>();
        List<long[]> txBefore = new ArrayList<>();
        for (XdpDatagramChannel ch : open) {
            rxBefore.add(ch.eventLoop().submit(ch::fastPathRxByQueue).get());
            txBefore.add(ch.eventLoop().submit(ch::fastPathTxByQueue).get());
        }
        recorders.forEach(Recorder::reset);
        int expected = FLOWS * PER_FLOW;
        int echoed = pair.peer().call(() -> senders.sendAndReceive(to, PER_FLOW));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (recorders.stream().mapToInt(Recorder::total).sum() < expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(50);
        Map<String, Integer> all = new HashMap<>();
        Map<Integer, Integer> flowOwner = new HashMap<>();
        long[] perQueue = new long[queues];
        StringBuilder where = new StringBuilder();
        for (int c = 0; c < open.size(); c++) {
            XdpDatagramChannel ch = open.get(c);
            Recorder r = recorders.get(c);
            for (Map.Entry<String, AtomicInteger> e : r.seen.entrySet()) {
                all.merge(e.getKey(), e.getValue().get(), Integer::sum);
            }
            for (int flow : r.flows) {
                Integer prev = flowOwner.put(flow, c);
                assertTrue(prev == null, "flow " + flow + " reached channels " + prev + " and " + c);
            }
            long[] rx = ch.eventLoop().submit(ch::fastPathRxByQueue).get();
            long[] tx = ch.eventLoop().submit(ch::fastPathTxByQueue).get();
            Set<Integer> mine = new HashSet<>();
            for (int q : ch.fastPathQueues()) {
                mine.add(q);
            }
            where.append(" ch").append(c).append(Arrays.toString(ch.fastPathQueues())).append(" rx");
            for (int q = 0; q < queues; q++) {
                long got = rx[q] - rxBefore.get(c)[q];
                long sent = tx[q] - txBefore.get(c)[q];
                where.append(q).append('=').append(got).append('/').append(sent).append(' ');
                perQueue[q] += got;
                if (!mine.contains(q)) {
                    assertEquals(0, got, "channel " + c + " received from queue " + q + " it does not own");
                }
                if (!mine.contains(q) && !mine.isEmpty()) {
                    assertEquals(0, sent, "channel " + c + " sent on queue " + q + " it does not own");
                }
            }
            XdpChannelMetrics m = ch.eventLoop().submit(ch::metrics).get();
            assertEquals(0, m.dropped(), "channel " + c + ": " + m);
        }
        assertEquals(expected, all.size(), "distinct datagrams received;" + where);
        for (Map.Entry<String, Integer> e : all.entrySet()) {
            assertEquals(1, e.getValue(), e.getKey() + " received once;" + where);
        }
        for (int q = 0; q < queues; q++) {
            assertTrue(perQueue[q] > 0, "queue " + q + " served;" + where);
        }
        assertEquals(expected, echoed, "replies;" + where);
        for (XdpDatagramChannel ch : open) {
            for (FrameAccounting a : ch.frameAccounting()) {
                assertTrue(a.balanced(), a.toString());
                assertEquals(0, a.application(), a.toString());
            }
        }
    }

    /** {@code flows} sockets in the peer namespace, one source port each. */
    private static final class Senders implements AutoCloseable {
        private final DatagramSocket[] sockets;
        private int seq;

        Senders(VethPair pair, int flows) throws Exception {
            sockets = new DatagramSocket[flows];
            for (int i = 0; i < flows; i++) {
                sockets[i] = new DatagramSocket(new InetSocketAddress(pair.peerV4(), 0));
                sockets[i].setSoTimeout(100);
            }
        }

        /** Sends {@code perFlow} datagrams from every socket, paced, and counts the replies. */
        int sendAndReceive(InetSocketAddress to, int perFlow) throws Exception {
            int round = seq++;
            int sent = 0;
            for (int i = 0; i < perFlow; i++) {
                for (int f = 0; f < sockets.length; f++) {
                    byte[] b = ("r" + round + "-f" + f + "-" + i).getBytes(StandardCharsets.UTF_8);
                    sockets[f].send(new java.net.DatagramPacket(b, b.length, to));
                    if (++sent % 32 == 0) {
                        Thread.sleep(1); // veth's per-queue ring holds 256 frames
                    }
                }
            }
            int replies = 0;
            byte[] buf = new byte[64];
            for (DatagramSocket s : sockets) {
                for (int i = 0; i < perFlow; i++) {
                    try {
                        s.receive(new java.net.DatagramPacket(buf, buf.length));
                        replies++;
                    } catch (java.net.SocketTimeoutException e) {
                        break;
                    }
                }
            }
            return replies;
        }

        @Override
        public void close() {
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }
    }
}
