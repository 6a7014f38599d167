package org.nettyxdp.channel;

import io.netty.channel.EventLoop;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event loop itself: tasks, timers, wakeups and an idle loop that costs nothing. */
class XdpIoHandlerTest {
    @Test
    void runsTasksFromOtherThreadsPromptly() throws Exception {
        XdpEventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            EventLoop loop = group.next();
            loop.submit(() -> { }).sync(); // let it go idle in epoll_wait
            Thread.sleep(50);
            for (int i = 0; i < 100; i++) {
                long start = System.nanoTime();
                loop.submit(() -> { }).sync();
                long micros = (System.nanoTime() - start) / 1000;
                assertTrue(micros < 500_000, "a task waited " + micros + " µs for the loop to wake up");
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void scheduledTasksRunOnTime() throws Exception {
        XdpEventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            long start = System.nanoTime();
            CountDownLatch done = new CountDownLatch(1);
            AtomicLong ranAt = new AtomicLong();
            group.next().schedule(() -> {
                ranAt.set(System.nanoTime());
                done.countDown();
            }, 100, TimeUnit.MILLISECONDS);
            assertTrue(done.await(2, TimeUnit.SECONDS));
            long ms = (ranAt.get() - start) / 1_000_000;
            assertTrue(ms >= 99 && ms < 400, "ran after " + ms + " ms");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aHandleThatThrowsIsClosedAndTheLoopRunsOn() throws Exception {
        XdpEventLoopGroup group = new XdpEventLoopGroup(1);
        // an eventfd with a count stays readable: a handle that never reads it is called on every run
        int fd = org.nettyxdp.sys.Syscalls.eventfd(1, org.nettyxdp.sys.Linux.EFD_NONBLOCK
                | org.nettyxdp.sys.Linux.EFD_CLOEXEC);
        try {
            io.netty.channel.IoEventLoop loop = (io.netty.channel.IoEventLoop) group.next();
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            CountDownLatch closed = new CountDownLatch(1);
            XdpIoHandle failing = new XdpIoHandle() {
                @Override
                public void handle(io.netty.channel.IoRegistration registration, io.netty.channel.IoEvent event) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("injected");
                }

                @Override
                public void close() {
                    closed.countDown();
                }
            };
            io.netty.channel.IoRegistration reg = loop.register(failing).get();
            loop.submit(() -> reg.submit(new XdpIoOps(fd, org.nettyxdp.sys.Linux.EPOLLIN))).sync();
            assertTrue(closed.await(5, TimeUnit.SECONDS), "the failing handle was closed");
            for (int i = 0; i < 10; i++) {
                loop.submit(() -> { }).sync();
            }
            assertTrue(loop.submit(() -> !reg.isValid()).get(), "and is no longer registered");
            org.junit.jupiter.api.Assertions.assertEquals(1, calls.get(), "nor called again");
            assertTrue(!loop.isShuttingDown());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            org.nettyxdp.sys.Syscalls.close(fd);
        }
    }

    @Test
    void anIdleLoopBurnsNoCpu() throws Exception {
        XdpEventLoopGroup group = new XdpEventLoopGroup(1);
        try {
            EventLoop loop = group.next();
            long tid = loop.submit(() -> Thread.currentThread().threadId()).get();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getThreadCpuTime(tid);
            Thread.sleep(500);
            long usedMs = (threads.getThreadCpuTime(tid) - before) / 1_000_000;
            assertTrue(usedMs < 50, "idle loop used " + usedMs + " ms of CPU in 500 ms");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aBusyPollingLoopNeverBlocks() throws Exception {
        XdpEventLoopGroup group = new XdpEventLoopGroup(1, new XdpIoHandlerConfig().setBusyPoll(true));
        try {
            EventLoop loop = group.next();
            // /proc/thread-self of the loop thread is /proc/<pid>/task/<tid>
            Path task = Path.of("/proc").resolve(
                    loop.submit(() -> Files.readSymbolicLink(Path.of("/proc/thread-self"))).get());
            // a thread blocked in epoll_wait sleeps (state S); a spinning one is running or runnable (R),
            // whether or not a loaded machine gives it a CPU at that moment
            int samples = 100;
            int running = 0;
            for (int i = 0; i < samples; i++) {
                Thread.sleep(5);
                String stat = Files.readString(task.resolve("stat"));
                if (stat.charAt(stat.lastIndexOf(')') + 2) == 'R') {
                    running++;
                }
            }
            assertTrue(running >= samples * 8 / 10, "busy-polling loop found running in " + running + " of "
                    + samples + " samples");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
