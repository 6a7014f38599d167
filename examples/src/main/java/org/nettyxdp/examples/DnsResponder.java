package org.nettyxdp.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An authoritative DNS responder on Netty's DNS codec: answers {@code A} and {@code AAAA} questions
 * from a table of names, {@code NXDOMAIN} for names it does not know, {@code NOTIMP} for other
 * operations. Transport-neutral: the same handlers serve on NIO, epoll or XDP.
 *
 * <pre>{@code
 * new Bootstrap().group(group).channel(XdpDatagramChannel.class)
 *     .handler(DnsResponder.pipeline(DnsResponder.readHosts(Path.of("hosts"))))
 * }</pre>
 *
 * Answers carry compressed names ({@link CompressingDnsRecordEncoder}). Writes are flushed once per
 * batch of reads.
 */
@ChannelHandler.Sharable
public final class DnsResponder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    /** TTL of every answer, seconds. */
    static final int TTL = 300;

    /** Lower-case name with its final dot → its addresses as record data (read-only, retained per answer). */
    private final Map<String, List<ByteBuf>> table;

    private DnsResponder(Map<String, List<ByteBuf>> table) {
        this.table = table;
    }

    /**
     * The handlers of a DNS server channel answering from {@code hosts} (names → addresses; a name may
     * have several addresses of both families): query decoder, compressing response encoder, responder.
     */
    public static ChannelInitializer<Channel> pipeline(Map<String, List<InetAddress>> hosts) {
        DnsResponder responder = new DnsResponder(records(hosts));
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new DatagramDnsQueryDecoder(),
                        new DatagramDnsResponseEncoder(new CompressingDnsRecordEncoder()), responder);
            }
        };
    }

    /**
     * Reads a hosts file ({@code ADDRESS NAME...} a line, {@code #} comments, as {@code /etc/hosts}
     * and dnsmasq's {@code addn-hosts}): name → addresses in file order.
     */
    public static Map<String, List<InetAddress>> readHosts(Path file) throws IOException {
        Map<String, List<InetAddress>> hosts = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            int hash = line.indexOf('#');
            String[] words = (hash < 0 ? line : line.substring(0, hash)).trim().split("\\s+");
            if (words.length < 2) {
                continue;
            }
            InetAddress address = InetAddress.ofLiteral(words[0]);
            for (int i = 1; i < words.length; i++) {
                hosts.computeIfAbsent(words[i], k -> new ArrayList<>()).add(address);
            }
        }
        return hosts;
    }

    private static Map<String, List<ByteBuf>> records(Map<String, List<InetAddress>> hosts) {
        Map<String, List<ByteBuf>> table = new HashMap<>();
        hosts.forEach((name, addresses) -> table.put(key(name), addresses.stream()
                .map(a -> Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(a.getAddress()).asReadOnly()))
                .toList()));
        return table;
    }

    private static String key(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower : lower + '.';
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
        DnsQuestion question = query.count(DnsSection.QUESTION) == 1 ? query.recordAt(DnsSection.QUESTION) : null;
        DnsResponseCode code;
        List<ByteBuf> addresses = null;
        if (query.opCode() != DnsOpCode.QUERY) {
            code = DnsResponseCode.NOTIMP;
        } else if (question == null) {
            code = DnsResponseCode.FORMERR;
        } else {
            addresses = table.get(key(question.name()));
            code = addresses == null ? DnsResponseCode.NXDOMAIN : DnsResponseCode.NOERROR;
        }
        DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id(),
                query.opCode(), code);
        response.setAuthoritativeAnswer(code == DnsResponseCode.NOERROR || code == DnsResponseCode.NXDOMAIN);
        response.setRecursionDesired(query.isRecursionDesired());
        if (question != null) {
            response.addRecord(DnsSection.QUESTION, question);
        }
        if (addresses != null) {
            int length = question.type() == DnsRecordType.A ? 4 : question.type() == DnsRecordType.AAAA ? 16 : -1;
            for (ByteBuf address : addresses) {
                if (address.readableBytes() == length) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), question.type(),
                            TTL, address)); // unreleasable, read with absolute indexes only: shared
                }
            }
        }
        ctx.write(response);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a malformed query is the sender's problem: report it and keep serving
        System.err.println("dns: " + cause);
    }
}
