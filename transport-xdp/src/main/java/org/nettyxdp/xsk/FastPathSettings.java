package org.nettyxdp.xsk;

import io.netty.buffer.ByteBufAllocator;
import org.nettyxdp.bpf.XdpMode;
import org.nettyxdp.packet.RxChecksumPolicy;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.ZeroCopyMode;

import java.util.Objects;

/**
 * What a {@link XdpFastPath} is opened with: the geometry and modes fixed at bind, and the
 * {@link Tunables} it reads again on every batch (options a channel may change while bound).
 *
 * @param umem           UMEM geometry of each queue (the first user of a queue decides it)
 * @param ringSize       RX and TX ring size of each socket
 * @param attachMode     how the steering program attaches to the interface
 * @param zeroCopy       whether the sockets bind in zero-copy mode
 * @param busyPollBudget {@code SO_BUSY_POLL_BUDGET} of each socket, 0 for no busy polling
 * @param tunables       the options read per batch
 * @param reusePort      whether the channel has {@code SO_REUSEPORT}: channels with it on one address
 *                       and port split the interface's RX queues between them
 */
public record FastPathSettings(UmemConfig umem, int ringSize, XdpMode attachMode, ZeroCopyMode zeroCopy,
                               int busyPollBudget, Tunables tunables, boolean reusePort) {
    public FastPathSettings {
        Objects.requireNonNull(umem, "umem");
        Objects.requireNonNull(attachMode, "attachMode");
        Objects.requireNonNull(zeroCopy, "zeroCopy");
        Objects.requireNonNull(tunables, "tunables");
        if (ringSize <= 0 || Integer.bitCount(ringSize) != 1) {
            throw new IllegalArgumentException("ringSize must be a power of two: " + ringSize);
        }
        if (busyPollBudget < 0) {
            throw new IllegalArgumentException("busyPollBudget must be >= 0: " + busyPollBudget);
        }
    }

    /** Settings without {@code SO_REUSEPORT}: the channel serves its port and address alone. */
    public FastPathSettings(UmemConfig umem, int ringSize, XdpMode attachMode, ZeroCopyMode zeroCopy,
                            int busyPollBudget, Tunables tunables) {
        this(umem, ringSize, attachMode, zeroCopy, busyPollBudget, tunables, false);
    }

    /** Options the fast path reads on every batch, so a change applies to the next one. */
    public interface Tunables {
        /** How received UDP checksums are checked. */
        RxChecksumPolicy rxChecksum();

        /** Share of the UMEM's frames the application may hold before received datagrams are copied. */
        double copyFallbackThreshold();

        /** IPv4 TOS / IPv6 traffic class of sent datagrams. */
        int trafficClass();

        /** Allocator of the copies made when the application holds too many frames. */
        ByteBufAllocator allocator();
    }
}
