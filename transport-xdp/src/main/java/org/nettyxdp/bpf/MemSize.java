package org.nettyxdp.bpf;

/** Width of a memory access: the {@code BPF_B/H/W/DW} size field of load and store instructions. */
public enum MemSize {
    /** 8 bits. */
    B(0x10),
    /** 16 bits. */
    H(0x08),
    /** 32 bits. */
    W(0x00),
    /** 64 bits. */
    DW(0x18);

    final int code;

    MemSize(int code) {
        this.code = code;
    }
}
