package org.nettyxdp.reliability;

import org.nettyxdp.channel.Xdp;

/** Child JVM entry of {@link AvailabilityTest}: prints {@code AVAILABLE} or {@code UNAVAILABLE <message>}. */
public final class AvailabilityMain {
    private AvailabilityMain() {
    }

    public static void main(String[] args) {
        Throwable cause = Xdp.unavailabilityCause();
        System.out.println(Xdp.isAvailable() ? "AVAILABLE" : "UNAVAILABLE " + cause.getMessage());
        if (cause != null) {
            try {
                Xdp.ensureAvailability();
                System.out.println("ENSURE did not throw");
            } catch (IllegalStateException e) {
                System.out.println("ENSURE " + (e.getCause() == cause ? "threw with the cause" : "lost the cause"));
            }
        }
    }
}
