package dev.ferry.nativeio;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Runs a task inside another network namespace. setns(2) moves only the calling thread, so the
 * task runs on a new thread made for it, which enters the namespace, runs the task, moves back,
 * and ends; the caller's threads never change namespace. Sockets created by the task keep
 * talking to the namespace they were created in.
 */
final class NamespaceSwitch {

    interface Task<T> {
        T run() throws IOException;
    }

    private NamespaceSwitch() {
    }

    static <T> T call(Path netnsFile, Task<T> task) throws IOException {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                result[0] = inNamespace(netnsFile, task);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "ferry-netns-switch");
        t.setDaemon(true);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while entering " + netnsFile, e);
        }
        if (failure[0] instanceof IOException) {
            throw (IOException) failure[0];
        }
        if (failure[0] instanceof RuntimeException) {
            throw (RuntimeException) failure[0];
        }
        if (failure[0] instanceof Error) {
            throw (Error) failure[0];
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    private static <T> T inNamespace(Path netnsFile, Task<T> task) throws IOException {
        LibC.Calls libc = Native.libc();
        int home = libc.open("/proc/thread-self/ns/net", Native.O_RDONLY | Native.O_CLOEXEC);
        if (home < 0) {
            throw new NetlinkException("open /proc/thread-self/ns/net", Native.errno(), null);
        }
        try {
            int target = libc.open(netnsFile.toString(), Native.O_RDONLY | Native.O_CLOEXEC);
            if (target < 0) {
                throw new NetlinkException("open network namespace " + netnsFile, Native.errno(), null);
            }
            try {
                if (libc.setns(target, Native.CLONE_NEWNET) < 0) {
                    throw new NetlinkException("setns into " + netnsFile, Native.errno(), null);
                }
            } finally {
                libc.close(target);
            }
            try {
                return task.run();
            } finally {
                // This thread ends right after; moving back keeps it harmless if it ever did not.
                libc.setns(home, Native.CLONE_NEWNET);
            }
        } finally {
            libc.close(home);
        }
    }
}
