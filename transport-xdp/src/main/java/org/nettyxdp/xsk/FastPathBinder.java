package org.nettyxdp.xsk;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.Route;
import org.nettyxdp.netlink.RtNetlink;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.OptionalInt;

/**
 * Finds where a bind's fast path runs and opens it there: the interface owning the bound address,
 * the named interface for the wildcard address with {@code INTERFACE}, or every interface XDP can
 * attach to for the plain wildcard address.
 */
public final class FastPathBinder {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(FastPathBinder.class);

    private FastPathBinder() {
    }

    /**
     * Opens the fast path of a channel bound to {@code local}, whose requested address is {@code ip}.
     *
     * @param interfaceName the interface to use (the only one, for the wildcard address), or null
     * @param owner         the channel: its event loop applies network changes
     * @return the fast path (perhaps on no interface yet, for the wildcard address), or null where the
     *         bind has none (multicast)
     * @throws PortTakenException another XDP channel of this process has exactly this port and address
     * @throws IOException        the address is on no interface, on another one than named, or AF_XDP failed
     */
    public static FastPathSet open(InetAddress ip, String interfaceName, InetSocketAddress local,
                                   FastPathSettings settings, FastPathSet.Owner owner) throws IOException {
        if (ip.isMulticastAddress()) {
            return null;
        }
        boolean wildcard = ip.isAnyLocalAddress();
        List<LinkInfo> links;
        try (RtNetlink rtnl = new RtNetlink()) {
            if (wildcard) {
                links = interfaceName != null ? List.of(rtnl.link(interfaceName)) : rtnl.links();
            } else {
                OptionalInt owning = rtnl.interfaceOwning(ip);
                if (owning.isEmpty()) {
                    throw new IOException("address " + ip.getHostAddress()
                            + " is not configured on any interface of this host");
                }
                LinkInfo link = rtnl.link(owning.getAsInt());
                if (interfaceName != null && !interfaceName.equals(link.name())) {
                    throw new IOException("address " + ip.getHostAddress() + " belongs to " + link.name()
                            + ", not to XdpChannelOption.INTERFACE " + interfaceName);
                }
                links = List.of(link);
            }
        }
        int frameLimit = settings.umem().maxRxFrameLength();
        for (LinkInfo link : links) {
            if (link.mtu() + 18 > frameLimit && !link.isLoopback()) {
                logger.debug("{}: MTU {} of {} exceeds a UMEM frame ({} bytes): larger frames take the kernel path",
                        local, link.mtu(), link.name(), frameLimit);
            }
        }
        return FastPathSet.open(wildcard ? null : ip, interfaceName, local, settings, owner, links, false);
    }

    /**
     * Opens the fast path of a channel the kernel bound to {@code local} by itself (a first send, or a
     * connect without bind), on the interface the kernel routes {@code destination} through (the
     * connected peer's, or the first datagram's). Returns null where there is none to use (multicast,
     * no route, an interface excluded by {@link FastPathSet#WILDCARD_INTERFACES_PROPERTY}).
     */
    public static FastPathSet openImplicit(InetSocketAddress destination, InetSocketAddress local,
                                           FastPathSettings settings, FastPathSet.Owner owner) throws IOException {
        InetAddress to = destination.getAddress();
        if (to == null || to.isMulticastAddress() || to.isAnyLocalAddress()) {
            return null;
        }
        LinkInfo link;
        try (RtNetlink rtnl = new RtNetlink()) {
            Route route;
            try {
                route = rtnl.route(to);
            } catch (IOException e) {
                return null; // no route: the kernel socket reports it
            }
            link = rtnl.link(route.oif());
        }
        InetAddress ip = local.getAddress();
        return FastPathSet.open(ip.isAnyLocalAddress() ? null : ip, link.name(), local, settings, owner,
                List.of(link), true);
    }
}
