package org.nettyxdp.testsuite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this network namespace lets the fast path do (read as the channel reads it). */
final class NextHopsProbe {
    private NextHopsProbe() {
    }

    /** True when IPv4 frames sent on lo to 127.0.0.0/8 are accepted, so IPv4 on lo can take AF_XDP TX. */
    static boolean loopbackAcceptsOwnIpv4() {
        return isOne("net/ipv4/conf/lo/route_localnet") && isOne("net/ipv4/conf/lo/accept_local");
    }

    private static boolean isOne(String name) {
        try {
            return Files.readString(Path.of("/proc/sys", name)).trim().equals("1");
        } catch (IOException e) {
            return false;
        }
    }
}
