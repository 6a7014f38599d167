package org.nettyxdp.xsk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.nettyxdp.packet.DropReason;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.packet.XdpPacket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fast path's own per-datagram work on an echo, with every byte in the cache: validate a received
 * IPv4/UDP or IPv6/UDP frame ({@link UdpFrameParser}, checksums verified) and write the reply's
 * Ethernet, IP and UDP headers with their checksums ({@link UdpFrameWriter}) in front of the same payload. No rings,
 * no Netty: what the loop pays above them per packet, minus cache misses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EchoPathBenchmark {
    private static final int FRAME = 4096;
    private static final long HOST_MAC = 0x02_00_00_00_00_01L;
    private static final long PEER_MAC = 0x02_00_00_00_00_02L;
    private static final int SERVER_PORT = 7777;

    @Param({"64", "1472"})
    int payload;

    /** IP version: 4 or 6. */
    @Param({"4", "6"})
    int ip;

    private Arena arena;
    private MemorySegment region;
    private XdpPacket packet;
    private UdpFrameParser parser;
    private UdpFrameWriter replyWriter;
    private NextHops.Hop replyHop;
    private long request;
    private int requestLen;
    private long replyL2;
    private boolean v4;

    @Setup
    public void setup() throws Exception {
        arena = Arena.ofShared();
        region = arena.allocate(2L * FRAME, 4096);
        v4 = ip == 4;
        byte[] host = InetAddress.getByName(v4 ? "10.9.0.1" : "fd09::1").getAddress();
        byte[] peer = InetAddress.getByName(v4 ? "10.9.0.2" : "fd09::2").getAddress();
        int host4 = v4 ? XdpFastPath.toInt(host) : 0;
        int peer4 = v4 ? XdpFastPath.toInt(peer) : 0;
        byte[] host6 = v4 ? null : host;
        int headers = v4 ? UdpFrameWriter.IPV4_HEADERS : UdpFrameWriter.IPV6_HEADERS;
        // the request, written as the peer would: peer:5000 -> host:7777
        UdpFrameWriter peerWriter = new UdpFrameWriter(5000, peer4, v4 ? null : peer, PEER_MAC);
        NextHops.Hop toHost = new NextHops.Hop(HOST_MAC, host, peer, host4, peer4);
        request = XdpPacket.XDP_PACKET_HEADROOM;
        for (int i = 0; i < payload; i++) {
            region.set(java.lang.foreign.ValueLayout.JAVA_BYTE, request + headers + i, (byte) (i * 31));
            region.set(java.lang.foreign.ValueLayout.JAVA_BYTE, FRAME + request + headers + i, (byte) (i * 31));
        }
        peerWriter.write(region, request, v4, toHost, SERVER_PORT, payload, 0);
        requestLen = headers + payload;
        packet = new XdpPacket(region, FRAME);
        parser = new UdpFrameParser(SERVER_PORT, host4, host6, v4, !v4, HOST_MAC, true, 1,
                false, () -> LocalAddresses.NONE);
        replyWriter = new UdpFrameWriter(SERVER_PORT, host4, host6, HOST_MAC);
        replyHop = new NextHops.Hop(PEER_MAC, peer, host, peer4, host4);
        replyL2 = FRAME + XdpPacket.XDP_PACKET_HEADROOM;
        if (validate() != null) {
            throw new IllegalStateException("the request does not validate: " + validate());
        }
    }

    private DropReason validate() {
        XdpPacket p = packet.resetFromDescriptor(request, requestLen, 0);
        return parser.validate(p, RxChecksumPolicy.VERIFY_UNLESS_PARTIAL);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** Validate the request (Ethernet, IPv4 with its checksum, UDP with its checksum over the payload). */
    @Benchmark
    public int validateRequest() {
        DropReason drop = validate();
        return drop == null ? parser.payloadLength() : -1;
    }

    /** Write the reply's headers and checksums in front of its payload. */
    @Benchmark
    public long writeReply() {
        replyWriter.write(region, replyL2, v4, replyHop, 5000, payload, 0);
        return region.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, replyL2 + 32);
    }
}
