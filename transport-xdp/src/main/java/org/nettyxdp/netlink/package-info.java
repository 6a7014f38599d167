/**
 * Internal: an rtnetlink ({@code NETLINK_ROUTE}) client in pure Java: links, addresses, FIB route
 * lookups and neighbour entries, which the channel layer needs to pick an interface and fill Ethernet
 * headers. Not part of the public API.
 *
 * <p>Entry point: {@link org.nettyxdp.netlink.RtNetlink}. A netlink socket belongs to the network
 * namespace of the thread that created it; see {@link org.nettyxdp.netlink.RtNetlink#openIn(String)}.
 */
package org.nettyxdp.netlink;
