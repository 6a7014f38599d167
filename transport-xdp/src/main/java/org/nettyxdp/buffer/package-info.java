/**
 * UMEM-backed buffers: {@link org.nettyxdp.buffer.UmemByteBuf}, the zero-copy {@code ByteBuf} over
 * one frame that received datagrams arrive in (index 0 is the first payload byte, as on every Netty
 * transport), and {@link org.nettyxdp.buffer.UmemFramePool}, which tracks where every frame is and
 * recycles them. Applications only ever see the buffers; the pool's signatures use JDK and Netty types
 * only, its locking is internal, and a frame moved from the wrong state is refused, never handed out
 * twice.
 */
package org.nettyxdp.buffer;
