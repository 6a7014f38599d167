package org.nettyxdp.packet;

/**
 * An Ethernet II header, optionally with one IEEE 802.1Q VLAN tag.
 *
 * <pre>
 *  0      6      12           14    16          (18 when tagged)
 *  | dst  | src  | EtherType  | ... payload
 *  | dst  | src  | 0x8100 TCI | EtherType | ... payload
 * </pre>
 *
 * {@link #etherType()} always names the payload: for a tagged frame it reads the type after the
 * tag, and {@link #size()} is {@value #TAGGED_LEN} instead of {@value #LEN}.
 */
public final class EthHdr extends Header {

    /** Length of an untagged header. */
    public static final int LEN = 14;
    /** Length of a header with one 802.1Q tag. */
    public static final int TAGGED_LEN = 18;

    private static final int DESTINATION = 0;
    private static final int SOURCE = 6;
    private static final int TYPE = 12;
    private static final int TCI = 14;
    private static final int INNER_TYPE = 16;

    /** A view pointing nowhere; point it with {@link XdpPacket#read} or {@link #wrap}. */
    public EthHdr() {
        super(LEN);
    }

    /** {@value #TAGGED_LEN} if the header carries a VLAN tag, else {@value #LEN}. */
    @Override
    public int size() {
        return isVlanTagged() ? TAGGED_LEN : LEN;
    }

    /** The destination address as the low 48 bits of a long (see {@link MacAddress#toLong()}). */
    public long destinationBits() {
        return macBits(DESTINATION);
    }

    /** The destination address (allocates; prefer {@link #destinationBits()} on hot paths). */
    public MacAddress destination() {
        return MacAddress.of(destinationBits());
    }

    /** Sets the destination address. */
    public void setDestination(MacAddress address) {
        putMac(DESTINATION, address.toLong());
    }

    /** The source address as the low 48 bits of a long (see {@link MacAddress#toLong()}). */
    public long sourceBits() {
        return macBits(SOURCE);
    }

    /** The source address (allocates; prefer {@link #sourceBits()} on hot paths). */
    public MacAddress source() {
        return MacAddress.of(sourceBits());
    }

    /** Sets the source address. */
    public void setSource(MacAddress address) {
        putMac(SOURCE, address.toLong());
    }

    /** The payload's EtherType (after the VLAN tag, if there is one); see {@link EtherType}. */
    public int etherType() {
        return getU16(isVlanTagged() ? INNER_TYPE : TYPE);
    }

    /** Sets the payload's EtherType (after the VLAN tag, if there is one). */
    public void setEtherType(int etherType) {
        putU16(isVlanTagged() ? INNER_TYPE : TYPE, etherType);
    }

    /**
     * True if one VLAN tag follows the source address: 802.1Q ({@link EtherType#VLAN}) or an 802.1ad
     * service tag ({@link EtherType#QINQ}), as the steering program accepts.
     */
    public boolean isVlanTagged() {
        int type = getU16(TYPE);
        return type == EtherType.VLAN || type == EtherType.QINQ;
    }

    /** The 16-bit tag control information (PCP, DEI, VLAN id), or {@code -1} if untagged. */
    public int vlanTci() {
        return isVlanTagged() ? getU16(TCI) : -1;
    }

    /** The 12-bit VLAN id, or {@code -1} if untagged. */
    public int vlanId() {
        return isVlanTagged() ? getU16(TCI) & 0x0FFF : -1;
    }

    /**
     * Makes this a tagged header with the given tag control information, keeping the EtherType: on
     * an untagged header the EtherType moves from bytes 12..14 to 16..18, overwriting whatever was
     * there. To tag a frame that already has a payload, first open a gap after the untagged header
     * with {@code packet.insert(EthHdr.LEN, new byte[4])}, then re-point the view and tag it.
     *
     * @throws IndexOutOfBoundsException if fewer than {@value #TAGGED_LEN} bytes were valid when the
     *         view was pointed
     */
    public void setVlanTag(int tci) {
        checkLimit(TAGGED_LEN);
        if (!isVlanTagged()) {
            putU16(INNER_TYPE, getU16(TYPE));
            putU16(TYPE, EtherType.VLAN);
        }
        putU16(TCI, tci);
    }

    private long macBits(int at) {
        return (getI32(at) & 0xFFFF_FFFFL) << 16 | getU16(at + 4);
    }

    private void putMac(int at, long bits) {
        putI32(at, (int) (bits >>> 16));
        putU16(at + 4, (int) bits);
    }
}
