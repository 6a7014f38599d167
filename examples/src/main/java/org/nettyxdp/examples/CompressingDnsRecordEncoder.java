package org.nettyxdp.examples;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.dns.DefaultDnsRecordEncoder;
import io.netty.util.CharsetUtil;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Netty's record encoder with DNS name compression (RFC 1035, 4.1.4): a name, or its tail, that the
 * message already holds is written as a pointer to it. Netty's own encoder writes every name in full;
 * with this one, the answers of a query point at its question's name, as most servers' do.
 *
 * <p>Offsets count from the message's first byte, which must be index 0 of the buffer
 * ({@code DatagramDnsResponseEncoder} writes each message into a buffer of its own from index 0). One
 * instance per channel: it remembers the names of the message being written, and forgets them when a
 * name is written right after a header (index 12), where every message's first name is.
 */
public final class CompressingDnsRecordEncoder extends DefaultDnsRecordEncoder {
    private static final int HEADER = 12;
    private static final int MAX_POINTER = 0x3fff;

    private final Map<String, Integer> offsets = new HashMap<>();

    public CompressingDnsRecordEncoder() {
    }

    @Override
    protected void encodeName(String name, ByteBuf buf) {
        if (buf.writerIndex() == HEADER) {
            offsets.clear();
        }
        if (name.isEmpty() || name.equals(".")) {
            buf.writeByte(0);
            return;
        }
        String fqdn = name.endsWith(".") ? name : name + '.';
        int start = 0;
        while (start < fqdn.length()) {
            String tail = fqdn.substring(start).toLowerCase(Locale.ROOT);
            Integer at = offsets.get(tail);
            if (at != null) {
                buf.writeShort(0xc000 | at);
                return;
            }
            if (buf.writerIndex() <= MAX_POINTER) {
                offsets.put(tail, buf.writerIndex());
            }
            int dot = fqdn.indexOf('.', start);
            int length = dot - start;
            if (length < 1 || length > 63) {
                throw new IllegalArgumentException("bad label in DNS name: " + name);
            }
            buf.writeByte(length);
            buf.writeCharSequence(fqdn.subSequence(start, dot), CharsetUtil.US_ASCII);
            start = dot + 1;
        }
        buf.writeByte(0);
    }
}
