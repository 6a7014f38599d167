package org.nettyxdp.bpf;

import java.util.List;

/**
 * What a raw channel's filter matches, as {@link RawFilterProgram} compiles it: leaves test one
 * header field of the frame, {@link And}, {@link Or} and {@link Not} combine them. Values are in host
 * order; addresses are compared under their prefix mask.
 */
public sealed interface FrameMatch {
    /** Every frame, runts included. */
    record All() implements FrameMatch {
    }

    /** The EtherType after at most one 802.1Q/802.1ad tag. */
    record EtherType(int type) implements FrameMatch {
    }

    /** The frame carries one 802.1Q/802.1ad tag with this VLAN ID. */
    record Vlan(int id) implements FrameMatch {
    }

    /** IPv4 protocol or IPv6 next header (the fixed header's; extension headers are not walked). */
    record IpProtocol(int protocol) implements FrameMatch {
    }

    /**
     * IPv4 (4 bytes) or IPv6 (16 bytes) source or destination address under a prefix of
     * {@code prefixLength} bits.
     */
    record IpPrefix(boolean source, byte[] address, int prefixLength) implements FrameMatch {
        public IpPrefix {
            address = address.clone();
            if (address.length != 4 && address.length != 16) {
                throw new IllegalArgumentException("address of " + address.length + " bytes");
            }
            if (prefixLength < 0 || prefixLength > address.length * 8) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " for a "
                        + (address.length == 4 ? "IPv4" : "IPv6") + " address");
            }
        }

        @Override
        public byte[] address() {
            return address.clone();
        }
    }

    /**
     * A TCP ({@code protocol} 6) or UDP (17) source or destination port in {@code [low, high]}, of the
     * first (or only) fragment of an IPv4 datagram, or of an IPv6 packet without extension headers.
     */
    record Port(int protocol, boolean source, int low, int high) implements FrameMatch {
        public Port {
            if (protocol != 6 && protocol != 17) {
                throw new IllegalArgumentException("ports are TCP's (6) or UDP's (17), not protocol " + protocol);
            }
            if (low < 0 || high > 0xffff || low > high) {
                throw new IllegalArgumentException("port range [" + low + ", " + high + "]");
            }
        }
    }

    /** Every part matches. */
    record And(List<FrameMatch> parts) implements FrameMatch {
        public And {
            parts = List.copyOf(parts);
        }
    }

    /** At least one part matches. */
    record Or(List<FrameMatch> parts) implements FrameMatch {
        public Or {
            parts = List.copyOf(parts);
        }
    }

    /** The part does not match. */
    record Not(FrameMatch part) implements FrameMatch {
    }
}
