package org.nettyxdp.testing;

import org.nettyxdp.socket.Umem;
import org.nettyxdp.socket.UmemConfig;
import org.nettyxdp.socket.XdpSocket;
import org.nettyxdp.socket.XdpSocketConfig;
import org.nettyxdp.sys.SyscallException;
import org.nettyxdp.sys.Syscalls;

/**
 * A foreign bare AF_XDP socket, on a UMEM of its own, that holds one queue of an interface: every
 * other bind there is EBUSY until {@link #close()} frees it (as another process's socket would).
 *
 * <pre>{@code
 * try (QueueHolder busy = QueueHolder.hold(pair.hostIf(), 0)) {
 *     // binds on queue 0 find it busy
 * }
 * }</pre>
 */
public final class QueueHolder implements AutoCloseable {
    private final Umem umem;
    private final XdpSocket socket;

    private QueueHolder(Umem umem, XdpSocket socket) {
        this.umem = umem;
        this.socket = socket;
    }

    /** Binds a socket on queue {@code queue} of interface {@code ifName}. */
    public static QueueHolder hold(String ifName, int queue) throws SyscallException {
        int ifindex = Syscalls.ifNameToIndex(ifName);
        Umem umem = Umem.allocate(new UmemConfig(2048, 64, 0, 0));
        try {
            return new QueueHolder(umem, XdpSocket.open(
                    XdpSocketConfig.defaults(ifindex, queue).withRingSizes(64, 64, 64, 64), umem));
        } catch (Throwable t) {
            umem.close();
            throw t;
        }
    }

    /** Closes the socket, then its UMEM: the queue is free. Idempotent. */
    @Override
    public void close() throws SyscallException {
        socket.close();
        umem.close();
    }
}
