package org.nettyxdp.testing;

import org.nettyxdp.netlink.LinkInfo;
import org.nettyxdp.netlink.RtNetlink;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A test host: a veth pair whose {@link #hostIf() host end} stays in this namespace and whose
 * {@link #peerIf() peer end} lives in its own network namespace {@link #peer()}, both with IPv4 and
 * IPv6 addresses. Removed by {@link #close()}, which tests call even when they fail.
 */
public final class VethPair implements AutoCloseable {
    private final String hostIf;
    private final String peerIf;
    private final NetNs peer;
    private final InetAddress hostV4;
    private final InetAddress peerV4;
    private final InetAddress hostV6;
    private final InetAddress peerV6;

    VethPair(String hostIf, String peerIf, String nsName, int subnet, int queues) {
        this.hostIf = hostIf;
        this.peerIf = peerIf;
        NetNs ns = new NetNs(nsName);
        this.peer = ns;
        try {
            String q = queues > 1 ? " numrxqueues " + queues + " numtxqueues " + queues : "";
            Shell.run("ip link add " + hostIf + q + " type veth peer name " + peerIf + q + " netns " + nsName);
            int hi = subnet >> 8 & 0xff;
            int lo = subnet & 0xff;
            String v4 = "10.2" + (hi % 50) + "." + lo + ".";
            String v6 = "fd00:" + Integer.toHexString(subnet) + "::";
            this.hostV4 = InetAddress.getByName(v4 + "1");
            this.peerV4 = InetAddress.getByName(v4 + "2");
            this.hostV6 = InetAddress.getByName(v6 + "1");
            this.peerV6 = InetAddress.getByName(v6 + "2");
            Shell.run("ip addr add " + v4 + "1/24 dev " + hostIf);
            Shell.run("ip -6 addr add " + v6 + "1/64 dev " + hostIf + " nodad");
            Shell.run("ip link set " + hostIf + " up");
            ns.exec("ip addr add " + v4 + "2/24 dev " + peerIf);
            ns.exec("ip -6 addr add " + v6 + "2/64 dev " + peerIf + " nodad");
            ns.exec("ip link set " + peerIf + " up");
        } catch (RuntimeException | UnknownHostException e) {
            close();
            throw new IllegalStateException("cannot create veth pair " + hostIf, e);
        }
    }

    public String hostIf() {
        return hostIf;
    }

    public String peerIf() {
        return peerIf;
    }

    public NetNs peer() {
        return peer;
    }

    public InetAddress hostV4() {
        return hostV4;
    }

    public InetAddress peerV4() {
        return peerV4;
    }

    public InetAddress hostV6() {
        return hostV6;
    }

    public InetAddress peerV6() {
        return peerV6;
    }

    /** The host end as rtnetlink reports it now. */
    public LinkInfo hostLink() throws IOException {
        try (RtNetlink rtnl = new RtNetlink()) {
            return rtnl.link(hostIf);
        }
    }

    /** The host end's MAC address (6 bytes), as rtnetlink reports it. */
    public byte[] hostMac() throws IOException {
        return hostLink().mac().toArray();
    }

    /** The peer end's MAC address (6 bytes), asked inside the peer's namespace. */
    public byte[] peerMac() throws Exception {
        return peer.call(() -> {
            try (RtNetlink rtnl = new RtNetlink()) {
                return rtnl.link(peerIf).mac().toArray();
            }
        });
    }

    /** Turns the peer's TX checksum offload off, so its frames carry complete UDP checksums. */
    public void disablePeerChecksumOffload() {
        peer.exec("ethtool -K " + peerIf + " tx off");
    }

    @Override
    public void close() {
        Shell.tryRun("ip link del " + hostIf);
        peer.close();
    }
}
