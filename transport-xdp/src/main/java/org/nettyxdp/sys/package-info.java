/**
 * Internal: Linux system calls bound with the FFM API, kernel struct layouts and errno handling.
 * Not part of the public API.
 */
package org.nettyxdp.sys;
