package org.nettyxdp.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import org.nettyxdp.channel.XdpAttachMode;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.io.File;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/3 server (Netty's {@code netty-codec-http3} over its QUIC codec) on XDP. It is Netty's
 * {@code Http3ServerExample} with two lines changed: the event loop group (in {@code main}) and the
 * channel class (in {@code ExampleServer.bootstrap}).
 *
 * <pre>
 * ./run-example.sh http3 [--bind 127.0.0.1:9443] [--interface NAME] [--mode auto|skb|drv] [--cert FILE --key FILE]
 * ./run-example.sh http3-client --server 127.0.0.1:9443 [--path /300000] [--requests 3]
 * </pre>
 *
 * {@code GET /} answers a short text; {@code GET /N} answers {@code N} bytes (at most 64 MiB) of a
 * fixed pattern ({@link #body}), which lets a client check every byte. Without {@code --cert} and
 * {@code --key} (PEM) it makes a self-signed certificate, so clients must not verify it, as
 * {@link XdpHttp3Client} does not. Prints the channel's counters every few seconds and on exit.
 */
public final class XdpHttp3Server {
    static final String USAGE = """
            usage: XdpHttp3Server [--bind ADDR:PORT] [--interface NAME] [--mode auto|skb|drv] [--cert FILE --key FILE]
              --bind       address to serve on (default 127.0.0.1:9443, i.e. on lo with generic XDP)
              --interface  interface for the fast path; needed when binding 0.0.0.0 or [::]
              --mode       how XDP attaches: auto (native if the driver can, else generic), skb, drv
              --cert/--key certificate chain and private key (PEM); default: a fresh self-signed one
            GET / answers a greeting, GET /N answers N bytes""";
    /** The largest body {@code GET /N} serves. */
    static final int MAX_BODY = 64 << 20;
    private static final byte[] GREETING = "Hello from Netty's HTTP/3 codec on netty-xdp\n".getBytes(CharsetUtil.US_ASCII);

    private XdpHttp3Server() {
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--bind", "--interface", "--mode", "--cert", "--key"));
        InetSocketAddress bind = cli.address("--bind", "127.0.0.1:9443");
        String iface = cli.value("--interface", null);
        XdpAttachMode mode = cli.mode();
        String cert = cli.value("--cert", null);
        String key = cli.value("--key", null);
        if ((cert == null) != (key == null)) {
            System.err.println("--cert and --key go together");
            System.exit(2);
        }
        QuicSslContext ssl = cert != null
                ? QuicSslContextBuilder.forServer(new File(key), null, new File(cert))
                        .applicationProtocols(Http3.supportedApplicationProtocols()).build()
                : selfSignedContext();

        // NIO: EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup group = new XdpEventLoopGroup(1);
        ExampleServer.run("http3", group, bind, g -> start(g, bind, iface, mode, ssl),
                ch -> "serving HTTP/3 on " + Cli.text(ch.localAddress()));
    }

    /** A TLS context for HTTP/3 with a fresh self-signed certificate (EC P-256) for {@code localhost}. */
    static QuicSslContext selfSignedContext() throws Exception {
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        return QuicSslContextBuilder.forServer(cert.getKeyPair().getPrivate(), null, cert.getCertificate())
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
    }

    /** Binds the server on {@code group}; {@code iface} may be null (needed only for a wildcard bind). */
    static XdpDatagramChannel start(EventLoopGroup group, InetSocketAddress bind, String iface, XdpAttachMode mode,
                                    QuicSslContext ssl) throws InterruptedException {
        return (XdpDatagramChannel) ExampleServer.bootstrap(group, codec(ssl), mode, iface).bind(bind).sync().channel();
    }

    /** The QUIC server codec with HTTP/3 on top, as in Netty's example; one handler per request stream. */
    static ChannelHandler codec(QuicSslContext ssl) {
        return Http3.newQuicServerCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(5000, TimeUnit.MILLISECONDS)
                .initialMaxData(10_000_000)
                .initialMaxStreamDataBidirectionalLocal(1_000_000)
                .initialMaxStreamDataBidirectionalRemote(1_000_000)
                .initialMaxStreamsBidirectional(100)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        ch.pipeline().addLast(new Http3ServerConnectionHandler(
                                new ChannelInitializer<QuicStreamChannel>() {
                                    @Override
                                    protected void initChannel(QuicStreamChannel stream) {
                                        stream.pipeline().addLast(new RequestHandler());
                                    }
                                }));
                    }
                })
                .build();
    }

    /** {@code n} bytes of the pattern {@code GET /n} answers: byte {@code i} is {@code i * 31 + 7}. */
    static ByteBuf body(int n) {
        ByteBuf body = Unpooled.buffer(n);
        for (int i = 0; i < n; i++) {
            body.writeByte(i * 31 + 7);
        }
        return body;
    }

    /** Answers one request stream once the request is complete: a greeting or {@code N} bytes. */
    private static final class RequestHandler extends Http3RequestStreamInboundHandler {
        private CharSequence path;

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            path = frame.headers().path();
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            int size = requestedSize(path);
            ByteBuf content = size < 0 ? Unpooled.wrappedBuffer(GREETING) : body(size);
            Http3HeadersFrame headers = new DefaultHttp3HeadersFrame();
            headers.headers().status(size == -2 ? "400" : "200");
            headers.headers().add("server", "netty-xdp");
            headers.headers().addInt("content-length", content.readableBytes());
            ctx.write(headers);
            ctx.writeAndFlush(new DefaultHttp3DataFrame(content)).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }

        /** N for {@code /N}; -1 for anything else; -2 for a number out of range. */
        private static int requestedSize(CharSequence path) {
            if (path == null || path.length() < 2 || path.charAt(0) != '/') {
                return -1;
            }
            try {
                long n = Long.parseLong(path.subSequence(1, path.length()).toString());
                return n >= 0 && n <= MAX_BODY ? (int) n : -2;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}
