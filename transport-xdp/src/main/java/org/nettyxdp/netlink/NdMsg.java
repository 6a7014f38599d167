package org.nettyxdp.netlink;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** {@code struct ndmsg} (12 bytes), the fixed header of RTM_*NEIGH messages. */
final class NdMsg {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ndm_family"),
            JAVA_BYTE.withName("ndm_pad1"),
            JAVA_SHORT.withName("ndm_pad2"),
            JAVA_INT.withName("ndm_ifindex"),
            JAVA_SHORT.withName("ndm_state"),
            JAVA_BYTE.withName("ndm_flags"),
            JAVA_BYTE.withName("ndm_type"));
    static final int SIZE = (int) LAYOUT.byteSize();
    static final long FAMILY = LAYOUT.byteOffset(groupElement("ndm_family"));
    static final long IFINDEX = LAYOUT.byteOffset(groupElement("ndm_ifindex"));
    static final long STATE = LAYOUT.byteOffset(groupElement("ndm_state"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("ndm_flags"));
    static final long TYPE = LAYOUT.byteOffset(groupElement("ndm_type"));

    private NdMsg() {
    }
}
