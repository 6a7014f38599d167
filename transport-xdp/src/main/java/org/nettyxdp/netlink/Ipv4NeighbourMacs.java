package org.nettyxdp.netlink;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * IPv4 neighbour MACs by interface index and address (an {@code int}, as {@link
 * java.net.Inet4Address#hashCode()} gives it), written by one thread and read by any without a lock or
 * an allocation.
 *
 * <p>Open addressing over {@code (ifindex, address)} keys packed in a {@code long}, key and value side
 * by side in one array. A slot's key, once set, never changes in that array: a removed entry keeps its
 * key with no value, and a table that fills up is copied (live entries only) into a new one, published
 * through a volatile field. So a reader that finds its key reads that key's value, never another's.
 */
final class Ipv4NeighbourMacs {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Set in a stored value: an entry is present (a MAC may be all zeros). */
    private static final long PRESENT = 1L << 48;
    private static final long MAC_BITS = PRESENT - 1;
    private static final int MIN_CAPACITY = 16;

    /** One generation of the table: {@code slots[2i]} a key (0: empty), {@code slots[2i + 1]} its value. */
    private static final class Table {
        final long[] slots;
        final int mask;
        /** Slots holding a key, live or removed. Writer only. */
        int used;

        Table(int capacity) {
            slots = new long[2 * capacity];
            mask = capacity - 1;
        }
    }

    private volatile Table table = new Table(MIN_CAPACITY);
    /** Entries with a value. Writer only. */
    private int live;

    /** The MAC of neighbour {@code address} on {@code ifindex}, or -1 if there is none. Any thread. */
    long get(int ifindex, int address) {
        long key = key(ifindex, address);
        if (key == 0) {
            return -1;
        }
        Table t = table;
        long[] s = t.slots;
        for (int i = slot(key, t.mask); ; i = (i + 1) & t.mask) {
            long k = (long) SLOTS.getAcquire(s, 2 * i);
            if (k == key) {
                long v = (long) SLOTS.getAcquire(s, 2 * i + 1);
                return v == 0 ? -1 : v & MAC_BITS;
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    /** Sets the MAC of {@code address} on {@code ifindex}; the previous one, or -1. Writer only. */
    long put(int ifindex, int address, long mac) {
        long key = key(ifindex, address);
        if (key == 0) {
            return -1;
        }
        long value = (mac & MAC_BITS) | PRESENT;
        Table t = table;
        int i = find(t, key);
        if (t.slots[2 * i] == key) {
            long old = t.slots[2 * i + 1];
            SLOTS.setRelease(t.slots, 2 * i + 1, value);
            if (old == 0) {
                live++;
            }
            return old == 0 ? -1 : old & MAC_BITS;
        }
        if ((t.used + 1) * 2 > t.mask + 1) {
            t = rebuild(live + 1);
            i = find(t, key);
        }
        SLOTS.setRelease(t.slots, 2 * i + 1, value);
        SLOTS.setRelease(t.slots, 2 * i, key); // after its value: a reader that sees the key sees a value
        t.used++;
        live++;
        return -1;
    }

    /** Removes the entry of {@code address} on {@code ifindex}; its MAC, or -1 if there was none. Writer only. */
    long remove(int ifindex, int address) {
        long key = key(ifindex, address);
        if (key == 0) {
            return -1;
        }
        Table t = table;
        int i = find(t, key);
        if (t.slots[2 * i] != key || t.slots[2 * i + 1] == 0) {
            return -1;
        }
        long old = t.slots[2 * i + 1];
        SLOTS.setRelease(t.slots, 2 * i + 1, 0L);
        live--;
        return old & MAC_BITS;
    }

    /** Removes every entry of interface {@code ifindex}. Writer only. */
    void removeInterface(int ifindex) {
        Table t = table;
        for (int i = 0; i <= t.mask; i++) {
            long k = t.slots[2 * i];
            if (k != 0 && (int) (k >>> 32) == ifindex && t.slots[2 * i + 1] != 0) {
                SLOTS.setRelease(t.slots, 2 * i + 1, 0L);
                live--;
            }
        }
    }

    /** Removes every entry. Writer only. */
    void clear() {
        table = new Table(MIN_CAPACITY);
        live = 0;
    }

    /** Entries present now. Writer only. */
    int size() {
        return live;
    }

    /** A new table with room for {@code entries} and the live entries of the current one, published. */
    private Table rebuild(int entries) {
        Table old = table;
        int capacity = Math.max(MIN_CAPACITY, Integer.highestOneBit(Math.max(1, entries) * 4 - 1) << 1);
        Table t = new Table(capacity);
        for (int i = 0; i <= old.mask; i++) {
            long k = old.slots[2 * i];
            long v = old.slots[2 * i + 1];
            if (k != 0 && v != 0) {
                int j = find(t, k);
                t.slots[2 * j] = k;
                t.slots[2 * j + 1] = v;
                t.used++;
            }
        }
        table = t; // the volatile write publishes the copied slots
        return t;
    }

    /** The slot holding {@code key}, or the empty slot that ends its probe sequence. */
    private static int find(Table t, long key) {
        int i = slot(key, t.mask);
        while (t.slots[2 * i] != 0 && t.slots[2 * i] != key) {
            i = (i + 1) & t.mask;
        }
        return i;
    }

    private static int slot(long key, int mask) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    private static long key(int ifindex, int address) {
        return (long) ifindex << 32 | (address & 0xffff_ffffL);
    }
}
