#!/usr/bin/env python3
"""Where an event loop thread's samples go, by component: reads `jfr print --json --stack-depth 64`
of a recording (ExecutionSample and NativeMethodSample events) and attributes each sample of the
threads whose name starts with PREFIX to the component of its top-most non-JDK frame.

    jfr print --json --stack-depth 64 --events jdk.ExecutionSample,jdk.NativeMethodSample x.jfr > x.json
    python3 benchmarks/jfr-stages.py x.json dns-
"""
import collections
import json
import sys

COMPONENTS = [
    ('org.nettyxdp.examples', 'responder and compressing encoder (examples)'),
    ('io.netty.handler.codec.dns', "Netty's DNS codec (messages, records, names)"),
    ('org.nettyxdp.xsk', 'XDP fast path: frame parse/validate, header writing, TX'),
    ('org.nettyxdp.packet', 'XDP fast path: frame parse/validate, header writing, TX'),
    ('org.nettyxdp.buffer', 'XDP fast path: UMEM buffers'),
    ('org.nettyxdp.socket', 'XDP rings and kicks'),
    ('org.nettyxdp.channel.XdpIoHandler', 'XDP event loop (epoll_wait, wake-ups)'),
    ('org.nettyxdp.channel', 'XDP channel: read loop, doWrite'),
    ('org.nettyxdp.sys', 'syscalls (FFM)'),
    ('io.netty', 'Netty core: pipeline, outbound buffer, refcounts, allocator'),
]


def frames(event):
    trace = event['values'].get('stackTrace') or {}
    return [f['method']['type']['name'].replace('/', '.') + '.' + f['method']['name'] for f in trace.get('frames', [])]


def component(fr):
    for f in fr:
        for prefix, name in COMPONENTS:
            if f.startswith(prefix):
                return name
    return 'JVM (JIT, class loading, JFR)'


def main():
    events = json.load(open(sys.argv[1]))['recording']['events']
    prefix = sys.argv[2] if len(sys.argv) > 2 else ''
    for kind in ('jdk.ExecutionSample', 'jdk.NativeMethodSample'):
        by_component = collections.Counter()
        native = collections.Counter()
        n = 0
        for e in events:
            thread = (e['values'].get('sampledThread') or {}).get('javaName') or ''
            if e['type'] != kind or not thread.startswith(prefix):
                continue
            fr = frames(e)
            n += 1
            by_component[component(fr)] += 1
            calls = [f for f in fr if f.startswith('org.nettyxdp.sys.Syscalls.')]
            native[calls[0].rsplit('.', 1)[1] if calls else '?'] += 1
        print('%s: %d samples of threads %s*' % (kind, n, prefix))
        for name, count in by_component.most_common():
            print('  %5.1f%%  %s' % (100.0 * count / max(n, 1), name))
        if kind == 'jdk.NativeMethodSample':
            print('  by system call: ' + ', '.join('%s %d' % kv for kv in native.most_common(6)))


if __name__ == '__main__':
    main()
