package org.nettyxdp.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nettyxdp.testing.TestHosts;
import org.nettyxdp.testing.VethPair;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real direct-memory exhaustion on the event loop: a child JVM with {@code -XX:MaxDirectMemorySize=8m}
 * runs an echoing channel and a channel whose handler keeps every datagram, with a copy fallback
 * threshold so low that received datagrams are soon copied into direct buffers, until the allocator
 * fails. The failing channel's pipeline sees {@code exceptionCaught} then {@code channelInactive}; the
 * JVM, its event loop and the echoing channel live on; the failed channel's port goes back to the kernel.
 */
class DirectMemoryExhaustionTest {
    @RegisterExtension
    static final TestHosts HOSTS = new TestHosts();

    @Test
    void outOfDirectMemoryInTheCopyFallbackClosesOnlyThatChannel() throws Exception {
        VethPair pair = HOSTS.vethPair(1);
        try (ChildJvm child = ChildJvm.start(List.of(), ChildJvm.testClasspath(),
                List.of("-XX:MaxDirectMemorySize=8m"), "hoard", pair.hostV4().getHostAddress(), "0.01")) {
            String[] ready = child.await("READY", 30_000).split(" ");
            assertEquals("fast=true", ready[3], String.join(" ", ready));
            InetSocketAddress echo = new InetSocketAddress(pair.hostV4(), Integer.parseInt(ready[1].substring(5)));
            InetSocketAddress hoard = new InetSocketAddress(pair.hostV4(), Integer.parseInt(ready[2].substring(6)));
            assertTrue(pair.peer().call(() -> CrashTest.echoes(echo)));

            AtomicBoolean stop = new AtomicBoolean();
            Future<Integer> flood = pair.peer().submit(() -> {
                int sent = 0;
                try (DatagramChannel client = DatagramChannel.open()) {
                    client.bind(new InetSocketAddress(pair.peerV4(), 0));
                    ByteBuffer payload = ByteBuffer.allocate(1400);
                    while (!stop.get() && sent < 200_000) {
                        client.send(payload.clear(), hoard);
                        if (++sent % 64 == 0) {
                            Thread.sleep(1);
                        }
                    }
                }
                return sent;
            });
            try {
                String failed = child.await("EVENT", 120_000);
                System.out.println("child: " + failed);
                assertTrue(failed.startsWith("EVENT exceptionCaught java.lang.OutOfMemoryError")
                        || failed.startsWith("EVENT exceptionCaught io.netty.util.internal.OutOfDirectMemoryError"),
                        failed + "\n" + child.output());
                assertEquals("EVENT channelInactive", child.await("EVENT", 10_000));
            } finally {
                stop.set(true);
                System.out.println("sent " + flood.get(30, TimeUnit.SECONDS) + " datagrams to the hoarding channel");
            }
            assertTrue(child.process().isAlive());
            for (int i = 0; i < 5; i++) {
                assertTrue(pair.peer().call(() -> CrashTest.echoes(echo)), "the other channel serves on");
            }
            // the failed channel's port is the kernel's again
            try (DatagramChannel kernel = DatagramChannel.open()) {
                kernel.bind(hoard);
                kernel.socket().setSoTimeout(2000);
                pair.peer().call(() -> {
                    try (DatagramChannel client = DatagramChannel.open()) {
                        client.bind(new InetSocketAddress(pair.peerV4(), 0));
                        client.send(ByteBuffer.wrap(new byte[] {42}), hoard);
                    }
                    return null;
                });
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[16], 16);
                kernel.socket().receive(p);
                assertEquals(1, p.getLength());
            }
            child.kill();
        }
    }
}
