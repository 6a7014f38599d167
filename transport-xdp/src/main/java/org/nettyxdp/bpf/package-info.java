/**
 * Internal: eBPF for the XDP data path, in pure Java over bpf(2) — a typed assembler
 * ({@link org.nettyxdp.bpf.BpfAssembler}), maps ({@link org.nettyxdp.bpf.XskMap},
 * {@link org.nettyxdp.bpf.PortMap}, {@link org.nettyxdp.bpf.CounterMap}), program loading
 * ({@link org.nettyxdp.bpf.BpfProgram}), attachment through a
 * {@code bpf_link} ({@link org.nettyxdp.bpf.XdpLink}) and the two programs the transport ships:
 * {@link org.nettyxdp.bpf.UdpSteeringProgram} and {@link org.nettyxdp.bpf.XdpDropProgram}.
 * {@link org.nettyxdp.bpf.XdpSteering} bundles them per interface for the channel layer.
 * Not part of the public API.
 */
package org.nettyxdp.bpf;
