package dev.ferry.nativeio;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real pipes and loopback sockets; none of this needs root. Test bytes enter and leave a pipe through
 * /proc/self/fd/N (a second, blocking descriptor of the same pipe), so only the calls under test touch the
 * descriptors Splice returns. The class timeout runs each test on its own thread, so a blocking stream that
 * never returns fails the test instead of hanging the build.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpliceTest {

    private static final long WAIT_NANOS = 5_000_000_000L;

    /** Every descriptor a test opened; closed after it, whatever happened. */
    private final List<Integer> opened = new ArrayList<>();

    @BeforeAll
    static void availableOnThisLinuxMachine() {
        assertNull(Splice.unavailabilityCause());
        assertTrue(Splice.isAvailable());
    }

    @AfterEach
    void closeDescriptors() {
        opened.forEach(Splice::close);
    }

    @Test
    void pipeGivesTwoDistinctNonBlockingCloseOnExecDescriptors() throws IOException {
        int[] fds = pipe(65536);
        assertEquals(2, fds.length);
        assertTrue(fds[0] >= 0 && fds[1] >= 0, "fds: " + fds[0] + ", " + fds[1]);
        assertNotEquals(fds[0], fds[1]);
        for (int fd : fds) {
            int flags = fdinfoFlags(fd);
            assertTrue((flags & Native.O_NONBLOCK) != 0, "fd " + fd + " flags 0" + Integer.toOctalString(flags));
            assertTrue((flags & Native.O_CLOEXEC) != 0, "fd " + fd + " flags 0" + Integer.toOctalString(flags));
        }
        // Both ends name the same pipe.
        assertEquals(Files.readSymbolicLink(fdPath(fds[0])), Files.readSymbolicLink(fdPath(fds[1])));
    }

    @Test
    void pipeCapacityIsRaisedUpToTheSystemMaximum() throws IOException {
        int max = pipeMaxSize();
        assumeTrue(max >= 200_000, "pipe-max-size is only " + max);
        for (int requested : new int[] {3 * 4096, 200_000, max}) {
            int[] fds = pipe(requested);
            int capacity = Splice.pipeCapacity(fds[0]);
            assertTrue(capacity >= requested, "requested " + requested + ", got " + capacity);
            assertEquals(capacity, Splice.pipeCapacity(fds[1]), "one pipe, one capacity");
        }
    }

    @Test
    void aRaiseAboveTheMaximumIsBestEffortAndThePipeStillWorks() throws IOException {
        // Refused (EPERM) unless privileged; granted to root. Either way pipe() must not throw.
        int requested = (int) Math.min(1L << 30, 16L * pipeMaxSize());
        int[] fds = pipe(requested);
        assertTrue(Splice.pipeCapacity(fds[0]) >= 4096, "capacity " + Splice.pipeCapacity(fds[0]));
        int[] target = pipe(65536);
        byte[] data = bytes(1000, 1);
        write(fds[1], data);
        assertEquals(data.length, Splice.splice(fds[0], target[1], 65536));
        assertArrayEquals(data, read(target[0], data.length));
    }

    @Test
    void pipeRejectsANonPositiveCapacity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Splice.pipe(0));
        assertTrue(e.getMessage().contains("capacity"), e.getMessage());
    }

    @Test
    void pipeCapacityOfABadDescriptorNamesTheCallAndDescriptor() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Splice.pipeCapacity(-1));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("fcntl(-1, F_GETPIPE_SZ): "), e.getMessage());
    }

    @Test
    void splicePipeToPipeMovesTheExactBytesAndReturnsTheCount() throws IOException {
        int[] source = pipe(65536);
        int[] target = pipe(65536);
        byte[] data = bytes(40_000, 7);
        write(source[1], data);

        assertEquals(data.length, Splice.splice(source[0], target[1], 65536));
        assertEquals(data.length, available(target[0]), "every byte is in the target pipe");
        assertArrayEquals(data, read(target[0], data.length));
        assertEquals(Splice.WOULD_BLOCK, Splice.splice(source[0], target[1], 65536), "source is drained");
    }

    @Test
    void spliceMovesAtMostMax() throws IOException {
        int[] source = pipe(65536);
        int[] target = pipe(65536);
        byte[] data = bytes(3000, 11);
        write(source[1], data);

        assertEquals(1000, Splice.splice(source[0], target[1], 1000));
        assertEquals(2000, Splice.splice(source[0], target[1], 65536));
        assertArrayEquals(data, read(target[0], data.length), "in order, nothing lost or repeated");
    }

    @Test
    void spliceFromAnEmptyPipeWithAWriterWouldBlock() throws IOException {
        int[] source = pipe(65536);
        int[] target = pipe(65536);
        assertEquals(Splice.WOULD_BLOCK, Splice.splice(source[0], target[1], 65536));
        assertEquals(0, available(target[0]));
    }

    @Test
    void spliceIntoAFullPipeWouldBlockUntilItIsDrained() throws IOException {
        int[] source = pipe(65536);
        int[] target = pipe(4096);
        int capacity = Splice.pipeCapacity(target[0]);
        byte[] filler = bytes(capacity, 3);
        write(target[1], filler); // exactly full: one page per slot
        byte[] data = bytes(100, 5);
        write(source[1], data);

        assertEquals(Splice.WOULD_BLOCK, Splice.splice(source[0], target[1], 65536));
        assertEquals(data.length, available(source[0]), "nothing left the source");

        assertArrayEquals(filler, read(target[0], capacity));
        assertEquals(data.length, Splice.splice(source[0], target[1], 65536));
        assertArrayEquals(data, read(target[0], data.length));
    }

    @Test
    void spliceReturnsZeroOnceTheWritersAreGone() throws IOException {
        int[] source = pipe(65536);
        int[] target = pipe(65536);
        byte[] data = bytes(10, 9);
        write(source[1], data); // the /proc writer is closed again here
        Splice.close(source[1]);
        opened.remove(Integer.valueOf(source[1]));

        // What was written before the close still comes out; then end of stream, every time.
        assertEquals(data.length, Splice.splice(source[0], target[1], 65536));
        assertEquals(0, Splice.splice(source[0], target[1], 65536));
        assertEquals(0, Splice.splice(source[0], target[1], 65536));
        assertArrayEquals(data, read(target[0], data.length));
    }

    @Test
    void spliceOnABadDescriptorThrowsEbadfNamingTheDescriptors() throws IOException {
        int[] target = pipe(65536);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Splice.splice(-1, target[1], 65536));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("splice(-1, " + target[1] + "): "), e.getMessage());
        assertTrue(e.getMessage().contains("EBADF"), e.getMessage());

        int[] source = pipe(65536);
        write(source[1], bytes(10, 1));
        int closed = target[1];
        Splice.close(closed);
        opened.remove(Integer.valueOf(closed));
        ErrnoException e2 = assertThrows(ErrnoException.class, () -> Splice.splice(source[0], closed, 65536));
        assertEquals(Errno.EBADF, e2.errno());
        assertTrue(e2.getMessage().startsWith("splice(" + source[0] + ", " + closed + "): "), e2.getMessage());
    }

    @Test
    void dupGivesANewCloseOnExecDescriptorOfTheSamePipe() throws IOException {
        int[] fds = pipe(65536);
        int copy = track(Splice.dup(fds[1]));
        assertNotEquals(fds[0], copy);
        assertNotEquals(fds[1], copy);
        assertEquals(Files.readSymbolicLink(fdPath(fds[1])), Files.readSymbolicLink(fdPath(copy)));
        int flags = fdinfoFlags(copy);
        assertTrue((flags & Native.O_CLOEXEC) != 0, "flags 0" + Integer.toOctalString(flags));
        assertTrue((flags & Native.O_NONBLOCK) != 0, "shares the open file: 0" + Integer.toOctalString(flags));

        // Bytes written through the copy come out of the original read end...
        byte[] data = bytes(500, 13);
        write(copy, data);
        assertArrayEquals(data, read(fds[0], data.length));

        // ...and the pipe keeps a writer while the copy is open: no end of stream yet.
        int[] target = pipe(65536);
        Splice.close(fds[1]);
        opened.remove(Integer.valueOf(fds[1]));
        assertEquals(Splice.WOULD_BLOCK, Splice.splice(fds[0], target[1], 65536));
        Splice.close(copy);
        opened.remove(Integer.valueOf(copy));
        assertEquals(0, Splice.splice(fds[0], target[1], 65536));
    }

    @Test
    void dupOfABadDescriptorNamesTheCall() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Splice.dup(-1));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("fcntl(-1, F_DUPFD_CLOEXEC): "), e.getMessage());
    }

    @Test
    void shutdownOutputOfAPipeIsNotASocket() throws IOException {
        int[] fds = pipe(65536);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Splice.shutdownOutput(fds[1]));
        assertEquals(88, e.errno(), "ENOTSOCK: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("shutdown(" + fds[1] + ", SHUT_WR): "), e.getMessage());
    }

    /**
     * The relay the proxy runs: sockets taken over from Java through a duplicate descriptor, socket → pipe →
     * socket, a FIN passed on with shutdownOutput, end of stream seen as 0, and a reset on closeWithReset.
     */
    @Test
    void relaysBetweenRealTcpSocketsThroughAPipe() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open();
             Socket sender = new Socket();
             Socket receiver = new Socket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            sender.setSoTimeout(5000);
            receiver.setSoTimeout(5000);
            int in = adoptAccepted(server, sender);
            int out = adoptAccepted(server, receiver);
            int[] pipe = pipe(65536);

            assertEquals(Splice.WOULD_BLOCK, Splice.splice(in, pipe[1], 65536), "nothing sent yet");
            byte[] data = bytes(50_000, 17);
            sender.getOutputStream().write(data);
            long moved = 0;
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (moved < data.length && System.nanoTime() < deadline) {
                long n = Splice.splice(in, pipe[1], 65536);
                if (n == 0) {
                    break; // end of stream: a bug, reported below
                }
                if (n > 0) {
                    moved += n;
                    assertEquals(n, Splice.splice(pipe[0], out, n), "loopback send buffer takes it all");
                } else {
                    Thread.onSpinWait();
                }
            }
            assertEquals(data.length, moved);
            assertArrayEquals(data, receiver.getInputStream().readNBytes(data.length));

            Splice.shutdownOutput(out);
            assertEquals(-1, receiver.getInputStream().read(), "the receiver sees our FIN");

            sender.shutdownOutput();
            long result = Splice.WOULD_BLOCK;
            deadline = System.nanoTime() + WAIT_NANOS;
            while (result == Splice.WOULD_BLOCK && System.nanoTime() < deadline) {
                result = Splice.splice(in, pipe[1], 65536);
            }
            assertEquals(0, result, "the sender's FIN is end of stream");

            opened.remove(Integer.valueOf(in));
            Splice.closeWithReset(in);
            SocketException reset = assertThrows(SocketException.class, () -> sender.getInputStream().read());
            assertTrue(reset.getMessage().contains("reset"), reset.toString()); // a timeout is no SocketException
        }
    }

    /**
     * Accepts the connection {@code client} makes, takes its accepted socket over as a non-blocking descriptor of
     * our own (a dup), and closes the Java channel: the socket lives on through the dup.
     */
    private int adoptAccepted(ServerSocketChannel server, Socket client) throws IOException {
        client.connect(server.getLocalAddress(), 5000);
        try (SocketChannel accepted = server.accept()) {
            accepted.configureBlocking(false); // O_NONBLOCK is on the open file, so the dup shares it
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            int fd = socketFd(port, client.getLocalPort());
            return track(Splice.dup(fd));
        }
    }

    /** Our descriptor of the TCP socket local:remote, found by its inode in /proc/net/tcp{,6}. */
    private static int socketFd(int localPort, int remotePort) throws IOException {
        String inode = null;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(String.format(":%04X", localPort))
                        && f[2].endsWith(String.format(":%04X", remotePort))) {
                    inode = f[9];
                }
            }
        }
        assertTrue(inode != null, "no socket " + localPort + " -> " + remotePort);
        String link = "socket:[" + inode + "]";
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(link)) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException gone) {
                    // a descriptor closed while we listed: not ours
                }
            }
        }
        throw new AssertionError("no descriptor for " + link);
    }

    private int[] pipe(int capacity) throws IOException {
        int[] fds = Splice.pipe(capacity);
        track(fds[0]);
        track(fds[1]);
        return fds;
    }

    private int track(int fd) {
        opened.add(fd);
        return fd;
    }

    /** Writes through a second, blocking descriptor of the pipe, closed again before returning. */
    static void write(int pipeWriteFd, byte[] data) throws IOException {
        try (FileOutputStream out = new FileOutputStream(fdPath(pipeWriteFd).toString())) {
            out.write(data);
        }
    }

    /** Reads exactly {@code length} bytes that must already be in the pipe (checked first, so this cannot block). */
    static byte[] read(int pipeReadFd, int length) throws IOException {
        try (FileInputStream in = new FileInputStream(fdPath(pipeReadFd).toString())) {
            assertTrue(in.available() >= length, "in pipe: " + in.available() + ", want " + length);
            // Not readNBytes: this JDK's FileInputStream version asks for the position, which a pipe has not.
            byte[] data = new byte[length];
            for (int done = 0; done < length; ) {
                int n = in.read(data, done, length - done);
                assertTrue(n > 0, "end of stream after " + done + " of " + length);
                done += n;
            }
            return data;
        }
    }

    /** Bytes waiting in a pipe (FIONREAD). */
    private static int available(int pipeReadFd) throws IOException {
        try (InputStream in = new FileInputStream(fdPath(pipeReadFd).toString())) {
            return in.available();
        }
    }

    static Path fdPath(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    /** The open file's status flags as the kernel reports them (octal "flags:" line; O_CLOEXEC included). */
    private static int fdinfoFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new AssertionError("no flags line for fd " + fd);
    }

    private static int pipeMaxSize() throws IOException {
        // One buffered read: Files.readString reads a zero-size file a byte at a time, and a sysctl file
        // answers a read at offset 1 with end of file.
        return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/fs/pipe-max-size")).get(0).trim());
    }

    static byte[] bytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

}
