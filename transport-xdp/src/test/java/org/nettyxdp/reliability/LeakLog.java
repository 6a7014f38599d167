package org.nettyxdp.reliability;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures Netty's leak reports, which the {@code ResourceLeakDetector} logs through
 * java.util.logging here. Tests run inside the transport's module, which does not read
 * {@code java.logging}: add that read edge ({@code Module.addReads}) before this class loads, and
 * reach it reflectively (as a {@code Supplier}), so that verifying the caller does not load it first.
 */
public final class LeakLog extends Handler implements Supplier<List<String>> {
    private static final String LOGGER = "io.netty.util.ResourceLeakDetector";
    final List<String> leaks = new CopyOnWriteArrayList<>();

    /** Starts capturing; returns the capture (the reports so far, via {@link #get()}). */
    public static LeakLog install() {
        LeakLog log = new LeakLog();
        Logger.getLogger(LOGGER).addHandler(log);
        return log;
    }

    /** Stops capturing. */
    public void uninstall() {
        Logger.getLogger(LOGGER).removeHandler(this);
    }

    @Override
    public List<String> get() {
        return leaks;
    }

    @Override
    public void publish(LogRecord r) {
        String m = r.getMessage();
        if (m != null && m.contains("LEAK")) {
            Object[] p = r.getParameters();
            leaks.add(m + (p == null ? "" : " " + List.of(p)));
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
