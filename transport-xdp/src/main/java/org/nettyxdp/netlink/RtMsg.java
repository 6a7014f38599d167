package org.nettyxdp.netlink;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** {@code struct rtmsg} (12 bytes), the fixed header of RTM_*ROUTE messages. */
final class RtMsg {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("rtm_family"),
            JAVA_BYTE.withName("rtm_dst_len"),
            JAVA_BYTE.withName("rtm_src_len"),
            JAVA_BYTE.withName("rtm_tos"),
            JAVA_BYTE.withName("rtm_table"),
            JAVA_BYTE.withName("rtm_protocol"),
            JAVA_BYTE.withName("rtm_scope"),
            JAVA_BYTE.withName("rtm_type"),
            JAVA_INT.withName("rtm_flags"));
    static final int SIZE = (int) LAYOUT.byteSize();
    static final long FAMILY = LAYOUT.byteOffset(groupElement("rtm_family"));
    static final long DST_LEN = LAYOUT.byteOffset(groupElement("rtm_dst_len"));
    static final long TABLE = LAYOUT.byteOffset(groupElement("rtm_table"));
    static final long PROTOCOL = LAYOUT.byteOffset(groupElement("rtm_protocol"));
    static final long SCOPE = LAYOUT.byteOffset(groupElement("rtm_scope"));
    static final long TYPE = LAYOUT.byteOffset(groupElement("rtm_type"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("rtm_flags"));

    private RtMsg() {
    }
}
