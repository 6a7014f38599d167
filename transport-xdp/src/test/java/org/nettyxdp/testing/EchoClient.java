package org.nettyxdp.testing;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A client in a veth pair's peer namespace that counts the echoes an echo server returns. */
public final class EchoClient {
    private EchoClient() {
    }

    /**
     * Sends {@code count} numbered datagrams to {@code target}, one at a time, from a fresh socket on the
     * peer address; returns how many came back intact within 2 s each.
     */
    public static int echoes(VethPair pair, InetSocketAddress target, int count) throws Exception {
        return pair.peer().call(() -> {
            try (DatagramChannel client = DatagramChannel.open()) {
                client.bind(new InetSocketAddress(pair.peerV4(), 0));
                client.socket().setSoTimeout(2000);
                int ok = 0;
                for (int i = 0; i < count; i++) {
                    client.send(ByteBuffer.wrap(("echo " + i).getBytes()), target);
                    try {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[64], 64);
                        client.socket().receive(p);
                        if (new String(p.getData(), 0, p.getLength()).equals("echo " + i)) {
                            ok++;
                        }
                    } catch (SocketTimeoutException e) {
                        // counted by the caller
                    }
                }
                return ok;
            }
        });
    }

    /**
     * Sends {@code count} datagrams of random length (0 to {@code maxPayload} bytes) and content, drawn
     * from {@code seed}, one at a time, from a fresh socket on {@code clientIp} in the peer namespace;
     * asserts that each echo that comes back within 2 s is its request, from {@code target}'s port;
     * returns how many came back.
     */
    public static int randomEchoes(VethPair pair, InetAddress clientIp, InetSocketAddress target, int count,
                                   int maxPayload, long seed) throws Exception {
        Random random = new Random(seed);
        return pair.peer().call(() -> {
            try (DatagramChannel client = DatagramChannel.open()) {
                client.bind(new InetSocketAddress(clientIp, 0));
                client.socket().setSoTimeout(2000);
                int ok = 0;
                for (int i = 0; i < count; i++) {
                    byte[] payload = new byte[random.nextInt(maxPayload + 1)];
                    random.nextBytes(payload);
                    client.send(ByteBuffer.wrap(payload), target);
                    try {
                        // one byte more than the largest request: a longer echo cannot pass for its request
                        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[maxPayload + 1], maxPayload + 1);
                        client.socket().receive(p);
                        assertArrayEquals(payload, Arrays.copyOf(p.getData(), p.getLength()), "datagram " + i);
                        assertEquals(target.getPort(), p.getPort(), "datagram " + i + " echoed from");
                        ok++;
                    } catch (SocketTimeoutException e) {
                        // counted by the caller
                    }
                }
                return ok;
            }
        });
    }
}
