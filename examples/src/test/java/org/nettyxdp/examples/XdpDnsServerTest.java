package org.nettyxdp.examples;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nettyxdp.buffer.FrameAccounting;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpChannelMetrics;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;
import org.nettyxdp.testing.XdpLoops;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link XdpDnsServer} (Netty's DNS codec) on a veth test host answering a real DNS client, {@code kdig}
 * from Debian's knot-dnsutils, run in the peer namespace; and a hand-made query whose additional
 * record's name is a compression pointer, which Netty's decoder must follow from the message's first
 * byte. Root only.
 */
class XdpDnsServerTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();
    @RegisterExtension
    static final XdpLoops LOOPS = new XdpLoops(1);
    @RegisterExtension
    static final ParanoidLeaks LEAKS = new ParanoidLeaks();

    private static String kdig;

    @BeforeAll
    static void tools() {
        kdig = DebianTool.require("kdig", "knot-dnsutils");
    }

    @ParameterizedTest
    @EnumSource(value = XdpAttachMode.class, names = {"DRV", "SKB"})
    void answersKdigWithCompressedNames(XdpAttachMode mode) throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        XdpDatagramChannel v4 = XdpDnsServer.start(LOOPS.group(), new InetSocketAddress(pair.hostV4(), 0), null, mode,
                XdpDnsServer.demoHosts());
        XdpDatagramChannel v6 = XdpDnsServer.start(LOOPS.group(), new InetSocketAddress(pair.hostV6(), 0), null, mode,
                XdpDnsServer.demoHosts());
        try {
            assertTrue(v4.isFastPathActive(), Cli.fastPathSummary(v4));
            assertTrue(v6.isFastPathActive(), Cli.fastPathSummary(v6));
            for (XdpDatagramChannel server : List.of(v4, v6)) {
                // four A records of one name: in the response each name is a pointer to the question's
                assertEquals(Set.of("multi.example.test. 300 IN A 192.0.2.10", "multi.example.test. 300 IN A 192.0.2.11",
                                "multi.example.test. 300 IN A 192.0.2.12", "multi.example.test. 300 IN A 192.0.2.13"),
                        answers(pair, server, "multi.example.test", "A"));
                // names match whatever their case
                assertEquals(Set.of("example.test. 300 in aaaa 2001:db8::1"),
                        lower(answers(pair, server, "Example.TEST", "AAAA")));
                assertEquals(Set.of(), answers(pair, server, "example.test", "MX"), "a known name without MX: no data");
                String nx = kdig(pair, server, "nothing.example.test", "A");
                assertTrue(nx.contains("status: NXDOMAIN"), nx);
                assertTrue(nx.contains("Flags: qr aa rd"), nx);
            }
            compressedQuery(pair, v4.localAddress());

            for (XdpDatagramChannel server : List.of(v4, v6)) {
                XdpChannelMetrics m = server.metrics();
                assertTrue(m.rxFastPackets() >= 4, "queries arrived on the fast path: " + m);
                assertTrue(m.txFastPackets() + m.txSlowPackets() >= 4 && m.txFastPackets() >= 3,
                        "answers left on the fast path: " + m);
                assertEquals(0, m.rxSlowPackets(), m.toString());
                // the first answer to kdig's host may take the kernel socket while its next hop resolves
                assertTrue(m.txSlowPackets() <= 1, m.toString());
                assertEquals(0, m.rxCopied(), "every query reached the decoder in its UMEM frame: " + m);
                assertEquals(0, m.dropped(), m.toString());
                for (FrameAccounting a : server.frameAccounting()) {
                    assertEquals(0, a.application(), "frames still held: " + a);
                }
            }
        } finally {
            v4.close().sync();
            v6.close().sync();
        }
    }

    /** kdig's parsed answer section, one {@code name ttl class type data} line per record. */
    private static Set<String> answers(VethPair pair, XdpDatagramChannel server, String name, String type) {
        String out = kdig(pair, server, name, type, "+noall", "+answer");
        Set<String> lines = new TreeSet<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !line.startsWith(";")) {
                lines.add(String.join(" ", line.trim().split("\\s+")));
            }
        }
        return lines;
    }

    private static Set<String> lower(Set<String> lines) {
        Set<String> lower = new TreeSet<>();
        lines.forEach(l -> lower.add(l.toLowerCase(java.util.Locale.ROOT)));
        return lower;
    }

    private static String kdig(VethPair pair, XdpDatagramChannel server, String name, String type, String... options) {
        String host = server.localAddress().getAddress().getHostAddress();
        StringBuilder command = new StringBuilder(kdig).append(" @").append(host)
                .append(" -p ").append(server.localAddress().getPort())
                .append(" +timeout=2 +retry=0 ").append(name).append(" ").append(type);
        for (String o : options) {
            command.append(' ').append(o);
        }
        String out = pair.peer().exec(command.toString());
        assertTrue(!out.contains("connection timed out") && !out.contains("failed"), command + ":\n" + out);
        return out;
    }

    /**
     * A query for {@code multi.example.test A} carrying an additional record whose name is a pointer to
     * the question's name (offset 12): the decoder follows it, the server answers; and the answers'
     * names are pointers to the question (0xc00c), which is what makes the response this short.
     */
    private static void compressedQuery(VethPair pair, InetSocketAddress server) throws Exception {
        byte[] qname = encodeName("multi.example.test");
        ByteBuffer q = ByteBuffer.allocate(12 + qname.length + 4 + 2 + 10 + 4);
        q.putShort((short) 0x1234).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0)
                .putShort((short) 0).putShort((short) 1);
        q.put(qname).putShort((short) 1).putShort((short) 1);
        q.putShort((short) 0xc00c).putShort((short) 1).putShort((short) 1).putInt(60).putShort((short) 4)
                .put(new byte[] {(byte) 198, 51, 100, 1});
        q.flip();
        byte[] reply = pair.peer().call(() -> {
            try (DatagramChannel c = DatagramChannel.open()) {
                c.bind(new InetSocketAddress(pair.peerV4(), 0));
                c.socket().setSoTimeout(2000);
                c.send(q, server);
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[1500], 1500);
                c.socket().receive(p);
                return java.util.Arrays.copyOf(p.getData(), p.getLength());
            }
        });
        ByteBuffer r = ByteBuffer.wrap(reply);
        assertEquals(0x1234, r.getShort(0) & 0xffff, "id");
        assertEquals(0, r.get(3) & 0x0f, "rcode NOERROR");
        assertEquals(1, r.getShort(4), "questions");
        assertEquals(4, r.getShort(6), "answers");
        int at = 12 + qname.length + 4;
        List<InetAddress> addresses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            assertEquals(0xc00c, r.getShort(at) & 0xffff, "answer " + i + "'s name points at the question's");
            assertEquals(4, r.getShort(at + 10), "rdlength");
            addresses.add(InetAddress.getByAddress(java.util.Arrays.copyOfRange(reply, at + 12, at + 16)));
            at += 16;
        }
        assertEquals(reply.length, at, "nothing after the answers");
        assertEquals(List.of(InetAddress.ofLiteral("192.0.2.10"), InetAddress.ofLiteral("192.0.2.11"),
                InetAddress.ofLiteral("192.0.2.12"), InetAddress.ofLiteral("192.0.2.13")), addresses);
    }

    private static byte[] encodeName(String name) {
        ByteBuffer b = ByteBuffer.allocate(256);
        for (String label : name.split("\\.")) {
            b.put((byte) label.length()).put(label.getBytes(StandardCharsets.US_ASCII));
        }
        b.put((byte) 0);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }
}
