package org.nettyxdp.packet;

/** How received UDP checksums are checked on the XDP fast path. */
public enum RxChecksumPolicy {
    /** Verify every checksum; datagrams whose checksum field holds only a pseudo-header sum are dropped. */
    VERIFY,
    /**
     * Verify full checksums; accept datagrams whose field holds only the pseudo-header sum (what a
     * sender with checksum offload leaves over veth or {@code lo}, where nothing completes it).
     */
    VERIFY_UNLESS_PARTIAL,
    /** Check no UDP checksum (lengths are always checked). */
    IGNORE
}
