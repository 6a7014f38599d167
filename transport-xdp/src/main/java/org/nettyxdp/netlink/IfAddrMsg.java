package org.nettyxdp.netlink;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** {@code struct ifaddrmsg} (8 bytes), the fixed header of RTM_*ADDR messages. */
final class IfAddrMsg {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifa_family"),
            JAVA_BYTE.withName("ifa_prefixlen"),
            JAVA_BYTE.withName("ifa_flags"),
            JAVA_BYTE.withName("ifa_scope"),
            JAVA_INT.withName("ifa_index"));
    static final int SIZE = (int) LAYOUT.byteSize();
    static final long FAMILY = LAYOUT.byteOffset(groupElement("ifa_family"));
    static final long PREFIXLEN = LAYOUT.byteOffset(groupElement("ifa_prefixlen"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("ifa_flags"));
    static final long SCOPE = LAYOUT.byteOffset(groupElement("ifa_scope"));
    static final long INDEX = LAYOUT.byteOffset(groupElement("ifa_index"));

    private IfAddrMsg() {
    }
}
