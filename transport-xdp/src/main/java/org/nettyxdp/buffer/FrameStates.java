package org.nettyxdp.buffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where each frame of a {@link UmemFramePool} is, one byte per frame, and the checked moves between
 * those places: static, so the pool's hot paths reach its own array with no object in between.
 */
final class FrameStates {
    static final byte FREE = 0;
    static final byte KERNEL = 1;
    static final byte APPLICATION = 2;
    static final byte SENDING = 3;
    static final byte SENDING_IN_PLACE = 4;
    /** Taken off an RX ring by its reader, being validated ({@link UmemFramePool#takeReceived}). */
    static final byte RECEIVED = 5;
    private static final String[] NAMES = {"free", "in the kernel", "held by the application", "being sent",
        "being sent in place", "being received"};
    private static final VarHandle STATE = MethodHandles.arrayElementVarHandle(byte[].class);

    private FrameStates() {
    }

    /** Frame {@code index}'s place (acquire). */
    static byte get(byte[] state, int index) {
        return (byte) STATE.getAcquire(state, index);
    }

    /** Puts frame {@code index} at {@code to} (release). */
    static void set(byte[] state, int index, byte to) {
        STATE.setRelease(state, index, to);
    }

    /** Moves frame {@code index} from {@code from} to {@code to} atomically; false if it is elsewhere. */
    static boolean compareAndSet(byte[] state, int index, byte from, byte to) {
        return STATE.compareAndSet(state, index, from, to);
    }

    /** Moves frame {@code index} from {@code from} to {@code to}, or throws if it is not at {@code from}. */
    static void move(byte[] state, int index, byte from, byte to) {
        byte s = get(state, index);
        if (s != from) {
            throw notAt(index, s, from);
        }
        set(state, index, to);
    }

    /**
     * Throws unless frame {@code index} is at {@code expected}, reading its place plainly: for a place
     * the calling thread set itself.
     */
    static void expectPlain(byte[] state, int index, byte expected) {
        byte s = state[index];
        if (s != expected) {
            throw notAt(index, s, expected);
        }
    }

    private static IllegalStateException notAt(int index, byte s, byte expected) {
        return new IllegalStateException("frame " + index + " is " + NAMES[s] + ", not " + NAMES[expected]);
    }

    /** How to say place {@code s} in a message. */
    static String name(byte s) {
        return NAMES[s];
    }

    /** How many frames are in each place (exact when no thread is moving frames). */
    static FrameAccounting count(byte[] state) {
        int[] counts = new int[NAMES.length];
        for (int i = 0; i < state.length; i++) {
            counts[get(state, i)]++;
        }
        // a received frame is the RX reader's for the moment between the ring and the application
        return new FrameAccounting(state.length, counts[FREE], counts[KERNEL] + counts[RECEIVED],
                counts[APPLICATION], counts[SENDING] + counts[SENDING_IN_PLACE]);
    }
}
