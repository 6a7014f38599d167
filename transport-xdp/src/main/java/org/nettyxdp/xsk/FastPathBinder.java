package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.RtNetlink;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.OptionalInt;

/**
 * Finds where a bind's fast path runs and opens it there: the interface owning the bound address, or
 * the named interface for the wildcard address.
 */
public final class FastPathBinder {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(FastPathBinder.class);

    private FastPathBinder() {
    }

    /**
     * Opens the fast path of a channel bound to {@code local}, whose requested address is {@code ip}.
     *
     * @param interfaceName the interface to use (required for the wildcard address), or null
     * @return the fast path, or null where the bind has none (wildcard without an interface, multicast)
     * @throws PortTakenException another XDP channel of this process has exactly this port and address
     * @throws IOException        the address is on no interface, on another one than named, or AF_XDP failed
     */
    public static XdpFastPath open(InetAddress ip, String interfaceName, InetSocketAddress local,
                                   FastPathSettings settings) throws IOException {
        LinkInfo link = link(ip, interfaceName, local, settings);
        return link == null ? null : XdpFastPath.open(link, local, ip.isAnyLocalAddress() ? null : ip, settings);
    }

    /**
     * As {@link #open}, but returns the fast path as an {@link XdpFastPath.Opening} that never waits for
     * a busy queue (for the event loop, which retries it later), or null where the bind has none.
     */
    public static XdpFastPath.Opening opening(InetAddress ip, String interfaceName, InetSocketAddress local,
                                              FastPathSettings settings) throws IOException {
        LinkInfo link = link(ip, interfaceName, local, settings);
        return link == null ? null : XdpFastPath.opening(link, local, ip.isAnyLocalAddress() ? null : ip, settings);
    }

    /** The interface the fast path of {@code local} runs on, or null where it has none. */
    private static LinkInfo link(InetAddress ip, String interfaceName, InetSocketAddress local,
                                 FastPathSettings settings) throws IOException {
        boolean wildcard = ip.isAnyLocalAddress();
        if (wildcard && interfaceName == null) {
            logger.debug("{} bound to the wildcard address without XdpChannelOption.INTERFACE: kernel socket only",
                    local);
            return null;
        }
        if (ip.isMulticastAddress()) {
            return null;
        }
        LinkInfo link;
        try (RtNetlink rtnl = new RtNetlink()) {
            if (wildcard) {
                link = rtnl.link(interfaceName);
            } else {
                OptionalInt owner = rtnl.interfaceOwning(ip);
                if (owner.isEmpty()) {
                    throw new IOException("address " + ip.getHostAddress()
                            + " is not configured on any interface of this host");
                }
                link = rtnl.link(owner.getAsInt());
                if (interfaceName != null && !interfaceName.equals(link.name())) {
                    throw new IOException("address " + ip.getHostAddress() + " belongs to " + link.name()
                            + ", not to XdpChannelOption.INTERFACE " + interfaceName);
                }
            }
        }
        int frameLimit = settings.umem().maxRxFrameLength();
        if (link.mtu() + 18 > frameLimit && !link.isLoopback()) {
            logger.debug("{}: MTU {} of {} exceeds a UMEM frame ({} bytes): larger frames take the kernel path",
                    local, link.mtu(), link.name(), frameLimit);
        }
        return link;
    }
}
