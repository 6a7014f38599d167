package org.nettyxdp.packet;

/** Why the fast path dropped a received frame; each reason has its own counter in {@link org.nettyxdp.channel.XdpChannelMetrics}. */
public enum DropReason {
    /** Shorter than the headers it announces. */
    TRUNCATED,
    /** IPv4 header length below 20, or an IP/UDP length that disagrees with the frame. */
    BAD_LENGTH,
    /** IPv4 header checksum wrong. */
    BAD_IP_CHECKSUM,
    /** UDP checksum wrong, or only partial where the policy wants it complete. */
    BAD_UDP_CHECKSUM,
    /** Not UDP to this channel's address and port (the program passes most of these to the kernel). */
    NOT_FOR_US,
    /**
     * From a source address the kernel refuses on input (the host's own, loopback off {@code lo},
     * unspecified, multicast, limited broadcast), or that an IPv6 socket is shielded from on the fast
     * path although Linux delivers it (the host's own, unspecified, IPv4-mapped): answering it would
     * loop back to the channel or go nowhere.
     */
    MARTIAN_SOURCE,
    /** From a peer other than the one the channel is connected to. */
    NOT_CONNECTED_PEER,
    /**
     * Split over several frames (multi-buffer) where the channel's sockets take no chains, or a chain
     * it cannot take: more frames than the largest datagram needs, or cut off before its last frame.
     */
    MULTI_BUFFER,
    /** Still waiting in the channel's RX ring when the channel closed. */
    CLOSED,
    /**
     * A descriptor from the kernel that names no frame of the UMEM, a frame the kernel was not given,
     * or a packet outside its frame's data area (an RX descriptor, or an address on the completion
     * ring): ignored, and its frame, when it is one the kernel had, returned to the pool.
     */
    INVALID_DESCRIPTOR
}
