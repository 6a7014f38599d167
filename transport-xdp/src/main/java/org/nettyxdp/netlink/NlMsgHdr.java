package org.nettyxdp.netlink;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/** {@code struct nlmsghdr} (16 bytes): length, type, flags, sequence number, port id. */
final class NlMsgHdr {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("nlmsg_len"),
            JAVA_SHORT.withName("nlmsg_type"),
            JAVA_SHORT.withName("nlmsg_flags"),
            JAVA_INT.withName("nlmsg_seq"),
            JAVA_INT.withName("nlmsg_pid"));
    static final int SIZE = (int) LAYOUT.byteSize();
    static final long LEN = LAYOUT.byteOffset(groupElement("nlmsg_len"));
    static final long TYPE = LAYOUT.byteOffset(groupElement("nlmsg_type"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("nlmsg_flags"));
    static final long SEQ = LAYOUT.byteOffset(groupElement("nlmsg_seq"));
    static final long PID = LAYOUT.byteOffset(groupElement("nlmsg_pid"));

    private NlMsgHdr() {
    }

    static int len(MemorySegment s, long at) {
        return s.get(JAVA_INT_UNALIGNED, at + LEN);
    }

    static int type(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(JAVA_SHORT_UNALIGNED, at + TYPE));
    }

    static int flags(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(JAVA_SHORT_UNALIGNED, at + FLAGS));
    }

    static int seq(MemorySegment s, long at) {
        return s.get(JAVA_INT_UNALIGNED, at + SEQ);
    }

    static int pid(MemorySegment s, long at) {
        return s.get(JAVA_INT_UNALIGNED, at + PID);
    }

    static void write(MemorySegment s, long at, int len, int type, int flags, int seq, int pid) {
        s.set(JAVA_INT_UNALIGNED, at + LEN, len);
        s.set(JAVA_SHORT_UNALIGNED, at + TYPE, (short) type);
        s.set(JAVA_SHORT_UNALIGNED, at + FLAGS, (short) flags);
        s.set(JAVA_INT_UNALIGNED, at + SEQ, seq);
        s.set(JAVA_INT_UNALIGNED, at + PID, pid);
    }
}
