package org.nettyxdp.socket;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout.PathElement;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Our layouts against the sizes and offsets of the kernel UAPI ({@code linux/if_xdp.h}, x86_64). */
class XdpStructsTest {
    @Test
    void sizesMatchTheKernel() {
        assertEquals(16, XdpStructs.SOCKADDR_XDP.byteSize());
        assertEquals(32, XdpStructs.UMEM_REG.byteSize());
        assertEquals(32, XdpStructs.RING_OFFSET.byteSize());
        assertEquals(128, XdpStructs.MMAP_OFFSETS.byteSize());
        assertEquals(16, XdpStructs.DESC.byteSize());
        assertEquals(48, XdpStructs.STATISTICS.byteSize());
    }

    @Test
    void offsetsUsedByTheRingsMatchTheLayouts() {
        assertEquals(16, XdpStructs.MMAP_OFFSETS.byteOffset(PathElement.groupElement("rx"), PathElement.groupElement("desc")));
        assertEquals(56, XdpStructs.MMAP_OFFSETS.byteOffset(PathElement.groupElement("tx"), PathElement.groupElement("flags")));
        assertEquals(64, XdpStructs.MMAP_OFFSETS.byteOffset(PathElement.groupElement("fr")));
        assertEquals(96, XdpStructs.MMAP_OFFSETS.byteOffset(PathElement.groupElement("cr")));
        assertEquals(8, XdpStructs.DESC.byteOffset(PathElement.groupElement("len")));
        assertEquals(12, XdpStructs.DESC.byteOffset(PathElement.groupElement("options")));
        assertEquals(28, XdpStructs.UMEM_REG.byteOffset(PathElement.groupElement("tx_metadata_len")));
        assertEquals(12, XdpStructs.SOCKADDR_XDP.byteOffset(PathElement.groupElement("sxdp_shared_umem_fd")));
    }
}
