package dev.ferry.userspace.forward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test endpoint on a real loopback socket. A greeter writes "id\n" then echoes until EOF and closes; a manual one
 * hands each accepted socket to the test.
 */
public final class TcpBackend implements AutoCloseable {

    private final ServerSocket server;
    private final String id;
    private final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();

    private TcpBackend(String host, String id) {
        this.id = id;
        try {
            server = new ServerSocket(0, 200, InetAddress.getByName(host));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::acceptLoop, "backend-" + id);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static TcpBackend greeter(String host, String id) {
        return new TcpBackend(host, id);
    }

    public static TcpBackend manual(String host) {
        return new TcpBackend(host, null);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public Socket nextAccepted() throws InterruptedException {
        Socket socket = accepted.poll(10, TimeUnit.SECONDS);
        if (socket == null) {
            throw new AssertionError("no connection reached " + address() + " within 10 s");
        }
        return socket;
    }

    /** A port nobody listens on (bound, then closed): connects to it are refused. */
    public static InetSocketAddress refusedAddress(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return (InetSocketAddress) s.getLocalSocketAddress();
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                if (id == null) {
                    accepted.add(socket);
                } else {
                    Thread t = new Thread(() -> greetAndEcho(socket), "backend-" + id + "-conn");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void greetAndEcho(Socket socket) {
        try (socket) {
            OutputStream out = socket.getOutputStream();
            out.write((id + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the test closed its side first
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s; (s = accepted.poll()) != null; ) {
            s.close();
        }
    }
}
