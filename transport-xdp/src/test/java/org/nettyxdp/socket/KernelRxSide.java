package org.nettyxdp.socket;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The kernel's side of an RX ring, played by a test: writes descriptors the real kernel never
 * produces (chains too long, cut off, with a first fragment too short) and publishes them as the
 * kernel does, with one release store of the producer word. Only on a socket that gets no traffic:
 * the kernel keeps its own copy of the producer index and would write over what this publishes.
 */
public final class KernelRxSide {
    private KernelRxSide() {
    }

    /** Appends descriptors {@code (addrs[i], lens[i], options[i])}, {@code i < n}, and publishes them. */
    public static void produce(RxRing rx, long[] addrs, int[] lens, int[] options, int n) {
        int prod = (int) XdpRing.INT.getAcquire(rx.map, rx.producerOffset);
        int cons = (int) XdpRing.INT.getAcquire(rx.map, rx.consumerOffset);
        if (prod - cons + n > rx.size) {
            throw new IllegalArgumentException(n + " descriptors do not fit the ring's " + (rx.size - (prod - cons))
                    + " free slots");
        }
        for (int i = 0; i < n; i++) {
            long slot = rx.descOffset + (long) ((prod + i) & rx.mask) * XdpStructs.DESC_SIZE;
            rx.map.set(JAVA_LONG, slot + XdpStructs.DESC_ADDR, addrs[i]);
            rx.map.set(JAVA_INT, slot + XdpStructs.DESC_LEN, lens[i]);
            rx.map.set(JAVA_INT, slot + XdpStructs.DESC_OPTIONS, options[i]);
        }
        XdpRing.INT.setRelease(rx.map, rx.producerOffset, prod + n);
    }
}
