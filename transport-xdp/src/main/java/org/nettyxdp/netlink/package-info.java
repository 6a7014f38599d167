/**
 * Internal: an rtnetlink ({@code NETLINK_ROUTE}) client in pure Java: links, addresses, FIB route
 * lookups and neighbour entries, which the channel layer needs to pick an interface and fill Ethernet
 * headers. Not part of the public API.
 *
 * <p>Entry point: {@link org.nettyxdp.netlink.RtNetlink} (the queries) over {@code RtnlSocket} (the
 * request/reply exchange). A netlink socket belongs to the network namespace of the thread that
 * created it.
 */
package org.nettyxdp.netlink;
