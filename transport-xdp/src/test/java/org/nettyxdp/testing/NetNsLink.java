package org.nettyxdp.testing;

/**
 * Two fresh network namespaces joined by a veth pair, so a test can change routes and neighbours
 * without touching this namespace: {@link #ns1()}/{@link #veth1()} with 10.77.S.1/24 and
 * fd00:77:S::1/64, {@link #ns2()}/{@link #veth2()} with .2 and ::2, where S is {@link #subnet()};
 * {@code lo} is up in both. Ready once no address is tentative any more (the link-local ones have
 * passed duplicate address detection), so two address dumps see the same flags. Made by
 * {@link TestHosts#linkedNamespaces}, which removes it.
 */
public final class NetNsLink implements AutoCloseable {
    private final NetNs ns1;
    private final NetNs ns2;
    private final String veth1;
    private final String veth2;
    private final int subnet;

    NetNsLink(String ns1Name, String ns2Name, String veth1, String veth2, int subnet, int rxQueues, int txQueues) {
        this.veth1 = veth1;
        this.veth2 = veth2;
        this.subnet = subnet;
        this.ns1 = new NetNs(ns1Name);
        NetNs second = null;
        try {
            second = new NetNs(ns2Name);
            Shell.run("ip link add " + veth1 + " numrxqueues " + rxQueues + " numtxqueues " + txQueues
                    + " netns " + ns1Name + " type veth peer name " + veth2 + " netns " + ns2Name);
            ns1.exec("ip addr add " + ip1() + "/24 dev " + veth1);
            second.exec("ip addr add " + ip2() + "/24 dev " + veth2);
            ns1.exec("ip addr add " + ip6a() + "/64 dev " + veth1 + " nodad");
            second.exec("ip addr add " + ip6b() + "/64 dev " + veth2 + " nodad");
            ns1.exec("ip link set " + veth1 + " up");
            second.exec("ip link set " + veth2 + " up");
            awaitNoTentativeAddress(ns1, veth1);
            awaitNoTentativeAddress(second, veth2);
        } catch (RuntimeException e) {
            ns1.close();
            if (second != null) {
                second.close();
            }
            throw new IllegalStateException("cannot link namespaces " + ns1Name + " and " + ns2Name, e);
        }
        this.ns2 = second;
    }

    private static void awaitNoTentativeAddress(NetNs ns, String dev) {
        for (int i = 0; i < 500; i++) {
            if (ns.exec("ip -6 addr show dev " + dev + " tentative").isBlank()) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(dev + " in " + ns.name() + " still has tentative addresses after 5 s");
    }

    /** The first namespace, holding {@link #veth1()}. */
    public NetNs ns1() {
        return ns1;
    }

    /** The second namespace, holding {@link #veth2()}. */
    public NetNs ns2() {
        return ns2;
    }

    public String veth1() {
        return veth1;
    }

    public String veth2() {
        return veth2;
    }

    /** S in the addresses: 1 to 254. */
    public int subnet() {
        return subnet;
    }

    public String ip1() {
        return "10.77." + subnet + ".1";
    }

    public String ip2() {
        return "10.77." + subnet + ".2";
    }

    public String ip6a() {
        return "fd00:77:" + Integer.toHexString(subnet) + "::1";
    }

    public String ip6b() {
        return "fd00:77:" + Integer.toHexString(subnet) + "::2";
    }

    /** Deletes both namespaces, and with them the veth pair. */
    @Override
    public void close() {
        ns1.close();
        ns2.close();
    }
}
