package org.nettyxdp.examples;

import io.netty.channel.EventLoopGroup;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An authoritative DNS server on XDP, built on Netty's DNS codec ({@link DnsResponder}): answers
 * {@code A}/{@code AAAA} questions for the names of a hosts file.
 *
 * <pre>
 * ./run-example.sh dns [--bind 127.0.0.1:5353] [--interface NAME] [--mode auto|skb|drv] [--hosts FILE]
 * kdig @127.0.0.1 -p 5353 multi.example.test      # kdig from Debian's knot-dnsutils, or dig
 * </pre>
 *
 * Without {@code --hosts} it serves a small demo table ({@code example.test}, and
 * {@code multi.example.test} with four addresses). Prints the channel's counters every few seconds
 * and on exit.
 */
public final class XdpDnsServer {
    static final String USAGE = """
            usage: XdpDnsServer [--bind ADDR:PORT] [--interface NAME] [--mode auto|skb|drv] [--hosts FILE]
              --bind       address to answer on (default 127.0.0.1:5353, i.e. on lo with generic XDP)
              --interface  interface for the fast path; needed when binding 0.0.0.0 or [::]
              --mode       how XDP attaches: auto (native if the driver can, else generic), skb, drv
              --hosts      names to serve, in /etc/hosts format (default: example.test, multi.example.test)""";

    private XdpDnsServer() {
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--bind", "--interface", "--mode", "--hosts"));
        InetSocketAddress bind = cli.address("--bind", "127.0.0.1:5353");
        String iface = cli.value("--interface", null);
        XdpAttachMode mode = cli.mode();
        String hostsFile = cli.value("--hosts", null);
        Map<String, List<InetAddress>> hosts = hostsFile == null ? demoHosts() : DnsResponder.readHosts(Path.of(hostsFile));

        // NIO: EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup group = new XdpEventLoopGroup(1);
        ExampleServer.run("dns", group, bind, g -> start(g, bind, iface, mode, hosts),
                ch -> "answering DNS for " + hosts.size() + " name(s) on " + Cli.text(ch.localAddress()));
    }

    /** Binds the server on {@code group}; {@code iface} may be null (needed only for a wildcard bind). */
    static XdpDatagramChannel start(EventLoopGroup group, InetSocketAddress bind, String iface, XdpAttachMode mode,
                                    Map<String, List<InetAddress>> hosts) throws InterruptedException {
        return (XdpDatagramChannel) ExampleServer.bootstrap(group, DnsResponder.pipeline(hosts), mode, iface)
                .bind(bind).sync().channel();
    }

    /** The table served without {@code --hosts}. */
    static Map<String, List<InetAddress>> demoHosts() {
        Map<String, List<InetAddress>> hosts = new LinkedHashMap<>();
        hosts.put("example.test", List.of(InetAddress.ofLiteral("192.0.2.1"), InetAddress.ofLiteral("2001:db8::1")));
        hosts.put("multi.example.test", List.of(InetAddress.ofLiteral("192.0.2.10"), InetAddress.ofLiteral("192.0.2.11"),
                InetAddress.ofLiteral("192.0.2.12"), InetAddress.ofLiteral("192.0.2.13")));
        return hosts;
    }
}
