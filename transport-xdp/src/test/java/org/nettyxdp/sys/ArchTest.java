package org.nettyxdp.sys;

import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchTest {
    @Test
    void knowsJavasNamesOfTheSupportedArchitectures() {
        assertEquals(Arch.X86_64, Arch.of("amd64", ByteOrder.LITTLE_ENDIAN));
        assertEquals(Arch.X86_64, Arch.of("x86_64", ByteOrder.LITTLE_ENDIAN));
        assertEquals(Arch.AARCH64, Arch.of("aarch64", ByteOrder.LITTLE_ENDIAN));
        assertEquals(Arch.AARCH64, Arch.of("arm64", ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void theRunningArchitectureIsTheOneOsArchNames() {
        assertEquals(Arch.of(System.getProperty("os.arch"), ByteOrder.nativeOrder()), Arch.current());
    }

    @Test
    void refusesAnUnknownArchitectureNamingItAndTheSupportedOnes() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Arch.of("riscv64", ByteOrder.LITTLE_ENDIAN));
        assertTrue(e.getMessage().contains("'riscv64'"), e.getMessage());
        assertTrue(e.getMessage().contains("x86_64") && e.getMessage().contains("aarch64"), e.getMessage());
    }

    @Test
    void refusesBigEndianEvenUnderAKnownName() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Arch.of("aarch64", ByteOrder.BIG_ENDIAN));
        assertTrue(e.getMessage().contains("BIG_ENDIAN") && e.getMessage().contains("little-endian"),
                e.getMessage());
    }

    @Test
    void bpfSystemCallNumbers() {
        // arch/x86/entry/syscalls/syscall_64.tbl (asm/unistd_64.h): __NR_bpf 321
        assertEquals(321, Arch.X86_64.sysBpf());
        // include/uapi/asm-generic/unistd.h, the table arm64 uses: __NR_bpf 280
        assertEquals(280, Arch.AARCH64.sysBpf());
        assertEquals(Arch.current().sysBpf(), Linux.SYS_BPF);
    }
}
