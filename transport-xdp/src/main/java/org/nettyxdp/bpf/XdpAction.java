package org.nettyxdp.bpf;

/** The verdicts of an XDP program ({@code enum xdp_action}). */
public enum XdpAction {
    /** Error: drop and raise the {@code xdp_exception} tracepoint. */
    ABORTED,
    /** Drop the frame. */
    DROP,
    /** Hand the frame to the kernel network stack. */
    PASS,
    /** Bounce the frame out of the interface it arrived on. */
    TX,
    /** Redirect to the target chosen by a redirect helper. */
    REDIRECT;

    /** The numeric value ({@code XDP_ABORTED = 0} .. {@code XDP_REDIRECT = 4}). */
    public int code() {
        return ordinal();
    }

    /** The action for {@code code}. */
    public static XdpAction of(int code) {
        XdpAction[] all = values();
        if (code < 0 || code >= all.length) {
            throw new IllegalArgumentException("not an XDP action: " + code);
        }
        return all[code];
    }
}
