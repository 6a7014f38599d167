package org.nettyxdp.netlink;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** {@code struct ifinfomsg} (16 bytes), the fixed header of RTM_*LINK messages. */
final class IfInfoMsg {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifi_family"),
            JAVA_BYTE.withName("ifi_pad"),
            JAVA_SHORT.withName("ifi_type"),
            JAVA_INT.withName("ifi_index"),
            JAVA_INT.withName("ifi_flags"),
            JAVA_INT.withName("ifi_change"));
    static final int SIZE = (int) LAYOUT.byteSize();
    static final long FAMILY = LAYOUT.byteOffset(groupElement("ifi_family"));
    static final long TYPE = LAYOUT.byteOffset(groupElement("ifi_type"));
    static final long INDEX = LAYOUT.byteOffset(groupElement("ifi_index"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("ifi_flags"));

    private IfInfoMsg() {
    }
}
