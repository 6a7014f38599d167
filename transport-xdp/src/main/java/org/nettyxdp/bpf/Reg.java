package org.nettyxdp.bpf;

/**
 * The eBPF registers. {@code R0} holds return values, {@code R1}–{@code R5} carry helper arguments
 * (and are clobbered by calls), {@code R6}–{@code R9} survive calls, {@code R10} is the read-only
 * frame pointer.
 */
public enum Reg {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The register number as encoded in an instruction. */
    public int num() {
        return ordinal();
    }
}
