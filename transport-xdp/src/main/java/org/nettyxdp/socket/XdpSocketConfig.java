package org.nettyxdp.socket;

/**
 * How to create and bind one AF_XDP socket.
 *
 * @param ifindex        interface to bind to
 * @param queueId        RX/TX queue of that interface
 * @param rxSize         RX ring slots (power of two)
 * @param txSize         TX ring slots (power of two)
 * @param fillSize       fill ring slots (power of two)
 * @param completionSize completion ring slots (power of two)
 * @param zeroCopy       zero-copy policy
 * @param needWakeup     bind with {@code XDP_USE_NEED_WAKEUP}: the kernel only needs a syscall when it says so
 * @param multiBuffer    bind with {@code XDP_USE_SG}: frames larger than a chunk arrive as several descriptors
 */
public record XdpSocketConfig(int ifindex, int queueId, int rxSize, int txSize, int fillSize, int completionSize,
                              ZeroCopyMode zeroCopy, boolean needWakeup, boolean multiBuffer) {
    public XdpSocketConfig {
        if (ifindex <= 0) {
            throw new IllegalArgumentException("ifindex must be positive: " + ifindex);
        }
        if (queueId < 0) {
            throw new IllegalArgumentException("queueId must be >= 0: " + queueId);
        }
        checkRingSize("rxSize", rxSize);
        checkRingSize("txSize", txSize);
        checkRingSize("fillSize", fillSize);
        checkRingSize("completionSize", completionSize);
        if (zeroCopy == null) {
            throw new NullPointerException("zeroCopy");
        }
    }

    /** Rings of 2048 slots (fill 4096), zero-copy where possible, need-wakeup on, no multi-buffer. */
    public static XdpSocketConfig defaults(int ifindex, int queueId) {
        return new XdpSocketConfig(ifindex, queueId, 2048, 2048, 4096, 2048, ZeroCopyMode.AUTO, true, false);
    }

    private static void checkRingSize(String name, int size) {
        if (size < 8 || size > (1 << 16) || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(name + " must be a power of two in [8, 65536]: " + size);
        }
    }

    public XdpSocketConfig withQueueId(int q) {
        return new XdpSocketConfig(ifindex, q, rxSize, txSize, fillSize, completionSize, zeroCopy, needWakeup,
                multiBuffer);
    }

    public XdpSocketConfig withZeroCopy(ZeroCopyMode z) {
        return new XdpSocketConfig(ifindex, queueId, rxSize, txSize, fillSize, completionSize, z, needWakeup,
                multiBuffer);
    }

    public XdpSocketConfig withMultiBuffer(boolean sg) {
        return new XdpSocketConfig(ifindex, queueId, rxSize, txSize, fillSize, completionSize, zeroCopy, needWakeup,
                sg);
    }

    public XdpSocketConfig withRingSizes(int rx, int tx, int fill, int completion) {
        return new XdpSocketConfig(ifindex, queueId, rx, tx, fill, completion, zeroCopy, needWakeup, multiBuffer);
    }
}
