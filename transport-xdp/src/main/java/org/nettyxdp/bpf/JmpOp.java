package org.nettyxdp.bpf;

/**
 * Conditional jumps of the {@code BPF_JMP} and {@code BPF_JMP32} classes. {@code GT/GE/LT/LE} compare
 * unsigned, the {@code S}-prefixed ones signed; {@code SET} jumps if {@code dst & src != 0}.
 */
public enum JmpOp {
    EQ(0x10), GT(0x20), GE(0x30), SET(0x40), NE(0x50), SGT(0x60), SGE(0x70),
    LT(0xa0), LE(0xb0), SLT(0xc0), SLE(0xd0);

    final int code;

    JmpOp(int code) {
        this.code = code;
    }
}
