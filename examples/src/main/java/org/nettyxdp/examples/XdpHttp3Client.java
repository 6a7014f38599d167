package org.nettyxdp.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import org.nettyxdp.channel.XdpDatagramChannel;
import org.nettyxdp.channel.XdpEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/3 client (Netty's {@code Http3ClientExample}) on XDP or NIO, to query {@link XdpHttp3Server}
 * (curl needs an HTTP/3 build for that, which Debian's is not).
 *
 * <pre>
 * ./run-example.sh http3-client --server HOST:PORT [--path /300000] [--requests 3] [--bind ADDR] [--transport xdp|nio]
 * </pre>
 *
 * Sends the requests one after the other on one QUIC connection and prints each response's status
 * and length, and for {@code /N} whether every byte is the server's pattern. It does not verify the
 * server's certificate (the server's default one is self-signed). With {@code --bind} (an address of
 * a local interface) the XDP channel takes the fast path; without it, the kernel socket.
 */
public final class XdpHttp3Client {
    static final String USAGE = """
            usage: XdpHttp3Client --server HOST:PORT [--path PATH] [--requests N] [--bind ADDR] [--transport xdp|nio]
              --server     the HTTP/3 server
              --path       what to GET (default /; XdpHttp3Server answers /N with N bytes)
              --requests   how many times, one after the other on one connection (default 1)
              --bind       local address; on XDP an interface's address gives the fast path (default: any)
              --transport  xdp (default) or nio""";

    private XdpHttp3Client() {
    }

    /** One response: its status and body. */
    record Response(String status, byte[] body) {
    }

    public static void main(String[] args) throws Exception {
        Cli cli = Cli.parse(args, USAGE, Set.of("--server", "--path", "--requests", "--bind", "--transport"));
        InetSocketAddress server = cli.address("--server", null);
        String path = cli.value("--path", "/");
        int requests = cli.integer("--requests", 1);
        String bindHost = cli.value("--bind", null);
        InetSocketAddress local = bindHost == null ? new InetSocketAddress(0) : Cli.parseAddress(bindHost + ":0");
        boolean nio = cli.value("--transport", "xdp").equals("nio");

        EventLoopGroup group = nio ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())
                : new XdpEventLoopGroup(1);
        try {
            Channel channel = bind(group, nio ? NioDatagramChannel.class : XdpDatagramChannel.class, local);
            long start = System.nanoTime();
            List<Response> responses = get(channel, server, path, requests);
            long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
            for (Response r : responses) {
                System.out.println("status " + r.status() + ", " + r.body().length + " bytes" + check(path, r.body()));
            }
            System.out.printf("%d request(s) in %.1f ms%n", requests, micros / 1000.0);
            if (channel instanceof XdpDatagramChannel xdp) {
                System.out.println(Cli.fastPathSummary(xdp) + "; " + Cli.stats(xdp));
            }
            channel.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static String check(String path, byte[] body) {
        if (path.equals("/")) {
            return ": " + new String(body, java.nio.charset.StandardCharsets.US_ASCII).strip();
        }
        ByteBuf expected = XdpHttp3Server.body(body.length);
        try {
            return expected.equals(Unpooled.wrappedBuffer(body)) ? ", pattern ok" : ", PATTERN MISMATCH";
        } finally {
            expected.release();
        }
    }

    /** A datagram channel of {@code type} on {@code group}, bound to {@code local}, with the QUIC client codec. */
    static Channel bind(EventLoopGroup group, Class<? extends Channel> type, InetSocketAddress local)
            throws InterruptedException {
        return new Bootstrap().group(group).channel(type).handler(codec()).bind(local).sync().channel();
    }

    /** The QUIC client codec, as in Netty's example; it trusts any certificate. */
    static ChannelHandler codec() {
        QuicSslContext ssl = QuicSslContextBuilder.forClient()
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        return Http3.newQuicClientCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(5000, TimeUnit.MILLISECONDS)
                .initialMaxData(10_000_000)
                .initialMaxStreamDataBidirectionalLocal(1_000_000)
                .build();
    }

    /**
     * Connects to {@code server} over {@code channel} (which has the {@link #codec()}), GETs {@code path}
     * {@code requests} times one after the other, and closes the connection.
     */
    static List<Response> get(Channel channel, InetSocketAddress server, String path, int requests)
            throws Exception {
        QuicChannel quic = QuicChannel.newBootstrap(channel)
                .handler(new Http3ClientConnectionHandler())
                .remoteAddress(server)
                .connect().get(10, TimeUnit.SECONDS);
        try {
            List<Response> responses = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                Promise<Response> response = channel.eventLoop().newPromise();
                QuicStreamChannel stream = Http3.newRequestStream(quic, new ResponseHandler(response))
                        .sync().getNow();
                Http3HeadersFrame request = new DefaultHttp3HeadersFrame();
                request.headers().method("GET").path(path).scheme("https")
                        .authority(server.getHostString() + ":" + server.getPort());
                stream.writeAndFlush(request).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT).sync();
                responses.add(response.get(30, TimeUnit.SECONDS));
                stream.closeFuture().sync();
            }
            return responses;
        } finally {
            quic.close().sync();
        }
    }

    /** Collects one response and completes {@code done} when the server ends the stream. */
    private static final class ResponseHandler extends Http3RequestStreamInboundHandler {
        private final Promise<Response> done;
        private String status = "";
        private ByteBuf body;

        ResponseHandler(Promise<Response> done) {
            this.done = done;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            body = ctx.alloc().heapBuffer();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            body.release();
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            CharSequence s = frame.headers().status();
            status = s == null ? "" : s.toString();
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            body.writeBytes(frame.content());
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            byte[] bytes = new byte[body.readableBytes()];
            body.readBytes(bytes);
            done.trySuccess(new Response(status, bytes));
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.tryFailure(cause);
            ctx.close();
        }
    }
}
