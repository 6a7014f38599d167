/**
 * UMEM-backed buffers: {@link org.nettyxdp.buffer.UmemByteBuf}, the zero-copy {@code ByteBuf} over
 * one frame that received datagrams arrive in, and the pool that recycles frames.
 */
package org.nettyxdp.buffer;
