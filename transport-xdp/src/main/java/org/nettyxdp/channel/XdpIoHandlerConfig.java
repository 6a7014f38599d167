package org.nettyxdp.channel;

/**
 * Settings of an {@link XdpIoHandler}, validated when set.
 *
 * <pre>{@code
 * new XdpEventLoopGroup(1, new XdpIoHandlerConfig().setBusyPoll(true));
 * }</pre>
 */
public final class XdpIoHandlerConfig {
    private int maxEvents = 128;
    private boolean busyPoll;

    /** The defaults: 128 events per iteration, no busy polling. */
    public XdpIoHandlerConfig() {
    }

    /** Most epoll events handled per loop iteration (default 128). */
    public int maxEvents() {
        return maxEvents;
    }

    /** Sets {@link #maxEvents()}: in [1, 4096]. */
    public XdpIoHandlerConfig setMaxEvents(int maxEvents) {
        if (maxEvents < 1 || maxEvents > 4096) {
            throw new IllegalArgumentException("maxEvents must be in [1, 4096]: " + maxEvents);
        }
        this.maxEvents = maxEvents;
        return this;
    }

    /** True if the loop never blocks and polls its rings continuously (default false). */
    public boolean busyPoll() {
        return busyPoll;
    }

    /** Polls continuously instead of blocking: lower latency, one core always busy. */
    public XdpIoHandlerConfig setBusyPoll(boolean busyPoll) {
        this.busyPoll = busyPoll;
        return this;
    }

    XdpIoHandlerConfig copy() {
        return new XdpIoHandlerConfig().setMaxEvents(maxEvents).setBusyPoll(busyPoll);
    }
}
