/**
 * Micrometer meters for netty-xdp channels: {@link org.nettyxdp.micrometer.XdpChannelMetricsBinder}.
 */
package org.nettyxdp.micrometer;
