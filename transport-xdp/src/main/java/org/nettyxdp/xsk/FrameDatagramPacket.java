package org.nettyxdp.xsk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.internal.StringUtil;

import java.net.InetSocketAddress;

/**
 * The {@link DatagramPacket} of one UMEM buffer object: received datagrams arrive in it, so the fast
 * path allocates nothing per datagram. The packet is reused for the next datagram its buffer object
 * carries, which can only happen after its content was released: like its {@link ByteBuf}, a packet
 * must not be used after {@link #release()}. Copy it ({@link #replace}, {@link #copy}) to keep it.
 */
final class FrameDatagramPacket extends DatagramPacket {
    private static final InetSocketAddress UNSET = new InetSocketAddress(0);

    private ByteBuf content = Unpooled.EMPTY_BUFFER;
    private InetSocketAddress recipient = UNSET;
    private InetSocketAddress sender;

    FrameDatagramPacket() {
        super(Unpooled.EMPTY_BUFFER, UNSET);
    }

    /** Points this packet at a newly received datagram. */
    FrameDatagramPacket set(ByteBuf content, InetSocketAddress recipient, InetSocketAddress sender) {
        this.content = content;
        this.recipient = recipient;
        this.sender = sender;
        return this;
    }

    @Override
    public ByteBuf content() {
        return content;
    }

    @Override
    public InetSocketAddress recipient() {
        return recipient;
    }

    @Override
    public InetSocketAddress sender() {
        return sender;
    }

    @Override
    public int refCnt() {
        return content.refCnt();
    }

    @Override
    public boolean release() {
        return content.release();
    }

    @Override
    public boolean release(int decrement) {
        return content.release(decrement);
    }

    @Override
    public DatagramPacket retain() {
        content.retain();
        return this;
    }

    @Override
    public DatagramPacket retain(int increment) {
        content.retain(increment);
        return this;
    }

    @Override
    public DatagramPacket touch() {
        content.touch();
        return this;
    }

    @Override
    public DatagramPacket touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return StringUtil.simpleClassName(DatagramPacket.class) + '(' + sender + " => " + recipient + ", " + content
                + ')';
    }
}
