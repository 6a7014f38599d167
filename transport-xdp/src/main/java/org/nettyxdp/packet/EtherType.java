package org.nettyxdp.packet;

/** EtherType values (IEEE 802 numbers) as they appear in {@link EthHdr#etherType()}. */
public final class EtherType {

    /** Internet Protocol version 4. */
    public static final int IPV4 = 0x0800;
    /** Address Resolution Protocol. */
    public static final int ARP = 0x0806;
    /** IEEE 802.1Q VLAN tag (the tag protocol identifier). */
    public static final int VLAN = 0x8100;
    /** Internet Protocol version 6. */
    public static final int IPV6 = 0x86DD;
    /** IEEE 802.1ad service VLAN tag (QinQ outer tag); not parsed by {@link EthHdr}. */
    public static final int QINQ = 0x88A8;

    private EtherType() {
    }
}
