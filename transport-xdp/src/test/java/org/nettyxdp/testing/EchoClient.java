package org.nettyxdp.testing;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

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
}
