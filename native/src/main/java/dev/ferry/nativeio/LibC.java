package dev.ferry.nativeio;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * Holds the libc binding. The interface must be public for the class jnr-ffi generates (in its
 * own class loader) to implement it; nesting it in this package-private class keeps it out of
 * the module's API.
 */
final class LibC {

    private LibC() {
    }

    /**
     * The few libc calls a netlink socket needs. Errors come back as -1 with errno saved by jnr
     * (read with {@link Native#errno()} on the same thread, right after the call). Byte arrays
     * are copied to native memory for the call ({@code @In}) or back from it ({@code @Out}).
     */
    public interface Calls {

        int socket(int domain, int type, int protocol);

        int bind(int fd, @In byte[] address, int addressLength);

        @ssize_t long sendto(int fd, @In byte[] buffer, @size_t long length, int flags, @In byte[] address,
                             int addressLength);

        /** {@code address} receives the sender's sockaddr; {@code addressLength} is in/out (one element). */
        @ssize_t long recvfrom(int fd, @Out byte[] buffer, @size_t long length, int flags,
                               @Out byte[] address, int[] addressLength);

        int close(int fd);

        int setsockopt(int fd, int level, int name, @In byte[] value, int valueLength);

        int getsockopt(int fd, int level, int name, @Out byte[] value, int[] valueLength);

        int getsockname(int fd, @Out byte[] address, int[] addressLength);

        String strerror(int errno);

        int setns(int fd, int nstype);

        int open(String path, int flags);

        // The splice data path (Splice, Epoll): primitive arguments and direct memory only, so a
        // call costs no copying and no allocation.

        int pipe2(@Out int[] fds, int flags);

        int fcntl(int fd, int command, int argument);

        @ssize_t long splice(int fdIn, Pointer offsetIn, int fdOut, Pointer offsetOut, @size_t long length, int flags);

        int shutdown(int fd, int how);

        int epoll_create1(int flags);

        int epoll_ctl(int epfd, int op, int fd, Pointer event);

        int epoll_wait(int epfd, Pointer events, int maxEvents, int timeoutMillis);

        int eventfd(int initialValue, int flags);

        @ssize_t long write(int fd, Pointer buffer, @size_t long length);

        @ssize_t long read(int fd, Pointer buffer, @size_t long length);
    }
}
