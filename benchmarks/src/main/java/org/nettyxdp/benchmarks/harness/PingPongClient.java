package org.nettyxdp.benchmarks.harness;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * A UDP ping-pong latency client: one datagram in flight, a sequence number in its first 8 bytes,
 * the round trip timed with {@code System.nanoTime()}; a reply with another sequence number (a late
 * one after a timeout) is skipped. Run on a thread inside the client namespace.
 *
 * <p>Why not {@code sockperf ping-pong}: its client only accepts replies whose header has the
 * client flag cleared, which only {@code sockperf server} does; a plain echo server (what every
 * transport here runs) returns the message unchanged and sockperf counts no reply at all.
 */
final class PingPongClient {
    /** Round-trip percentiles in microseconds, and how many round trips were timed. */
    record Result(double p50, double p99, double p999, long samples, long lost) {
    }

    private PingPongClient() {
    }

    static Result run(InetSocketAddress server, int payload, long warmupNanos, long measureNanos) throws IOException {
        try (DatagramSocket sock = new DatagramSocket()) {
            sock.connect(server);
            sock.setSoTimeout(200);
            long[] samples = new long[1 << 20];
            int n = 0;
            long lost = 0;
            long seq = 0;
            long start = System.nanoTime();
            long measureFrom = start + warmupNanos;
            long end = measureFrom + measureNanos;
            byte[] buf = new byte[Math.max(payload, 2048)];
            java.net.DatagramPacket rx = new java.net.DatagramPacket(buf, buf.length);
            byte[] tx = new byte[payload];
            java.net.DatagramPacket txp = new java.net.DatagramPacket(tx, payload, server);
            while (true) {
                long now = System.nanoTime();
                if (now >= end || n == samples.length) {
                    break;
                }
                seq++;
                putLong(tx, seq);
                long t0 = System.nanoTime();
                sock.send(txp);
                try {
                    while (true) {
                        rx.setLength(buf.length);
                        sock.receive(rx);
                        if (rx.getLength() >= 8 && getLong(buf) == seq) {
                            break;
                        }
                    }
                } catch (SocketTimeoutException e) {
                    lost++;
                    continue;
                }
                long rtt = System.nanoTime() - t0;
                if (t0 >= measureFrom) {
                    samples[n++] = rtt;
                }
            }
            long[] s = Arrays.copyOf(samples, n);
            Arrays.sort(s);
            return new Result(pct(s, 0.50), pct(s, 0.99), pct(s, 0.999), n, lost);
        }
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1000.0;
    }

    private static void putLong(byte[] b, long v) {
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    private static long getLong(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[i] & 0xff);
        }
        return v;
    }
}
