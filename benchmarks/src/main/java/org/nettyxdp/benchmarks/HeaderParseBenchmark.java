package org.nettyxdp.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.nettyxdp.packet.Checksum;
import org.nettyxdp.packet.EthHdr;
import org.nettyxdp.packet.EtherType;
import org.nettyxdp.packet.IpProto;
import org.nettyxdp.packet.Ipv4Hdr;
import org.nettyxdp.packet.MacAddress;
import org.nettyxdp.packet.UdpHdr;
import org.nettyxdp.packet.XdpPacket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The RX parse path: point the per-socket {@link XdpPacket} at a descriptor, then read Ethernet,
 * IPv4 and UDP through reused header views. Run with {@code -prof gc}: it should allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderParseBenchmark {

    private static final int FRAME_SIZE = 4096;
    private static final int HEADROOM = 0;
    private static final int PAYLOAD = 64;

    private Arena arena;
    private long addr;
    private int len;
    private XdpPacket packet;
    private final EthHdr eth = new EthHdr();
    private final Ipv4Hdr ip = new Ipv4Hdr();
    private final UdpHdr udp = new UdpHdr();

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        MemorySegment umem = arena.allocate(4L * FRAME_SIZE, FRAME_SIZE);
        packet = new XdpPacket(umem, FRAME_SIZE);
        // Build one datagram in frame 2, as the kernel would deliver it.
        packet.reset(2L * FRAME_SIZE, HEADROOM, HEADROOM, 0);
        packet.adjustTail(EthHdr.LEN + Ipv4Hdr.LEN + UdpHdr.LEN + PAYLOAD);
        EthHdr e = packet.read(0, new EthHdr());
        e.setDestination(MacAddress.parse("02:00:00:00:00:02"));
        e.setSource(MacAddress.parse("02:00:00:00:00:01"));
        e.setEtherType(EtherType.IPV4);
        Ipv4Hdr i = packet.read(EthHdr.LEN, new Ipv4Hdr());
        i.reset(64, IpProto.UDP);
        i.setTotalLength(Ipv4Hdr.LEN + UdpHdr.LEN + PAYLOAD);
        i.setSource(0x0A000001);
        i.setDestination(0x0A000002);
        i.updateChecksum();
        UdpHdr u = packet.read(EthHdr.LEN + Ipv4Hdr.LEN, new UdpHdr());
        u.setSourcePort(40000);
        u.setDestinationPort(9000);
        u.setLength(UdpHdr.LEN + PAYLOAD);
        u.setChecksum(Checksum.udp(i, u));
        addr = packet.addr();
        len = packet.len();
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** Re-point, parse three headers, pick out what a channel needs. */
    @Benchmark
    public long parse() {
        packet.resetFromDescriptor(addr, len, 0);
        packet.read(0, eth);
        if (eth.etherType() != EtherType.IPV4) {
            return -1;
        }
        int l3 = eth.size();
        packet.read(l3, ip);
        if (ip.protocol() != IpProto.UDP || ip.isFragment()) {
            return -1;
        }
        packet.read(l3 + ip.headerLength(), udp);
        return (long) ip.source() << 32 ^ udp.sourcePort() << 16 ^ udp.destinationPort() ^ udp.length();
    }

    /** {@link #parse()} plus the IPv4 header and UDP checksum checks. */
    @Benchmark
    public long parseAndVerify() {
        long result = parse();
        if (!ip.isChecksumValid() || Checksum.verifyUdp(ip, udp) != Checksum.UdpStatus.VALID) {
            return -1;
        }
        return result;
    }
}
