package dev.ferry.proxy;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * Tiny HTTP servers for the README's userspace demo: one per port given, on 127.0.0.1, each
 * answering every request with "hello from backend PORT". Not part of the proxy; it stands in for
 * the pods of examples/userspace-demo so that the demo needs nothing but the JDK.
 *
 * <p>Usage: {@code java -cp proxy.jar dev.ferry.proxy.DemoBackends 9001 9002}
 */
public final class DemoBackends {

    private DemoBackends() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length == 0) {
            System.err.println("usage: DemoBackends PORT...");
            System.exit(2);
        }
        for (String arg : args) {
            int port = Integer.parseInt(arg);
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            byte[] body = ("hello from backend " + port + "\n").getBytes(StandardCharsets.UTF_8);
            server.createContext("/", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
            System.err.println("demo backend listening on 127.0.0.1:" + port);
        }
        new CountDownLatch(1).await(); // until killed
    }
}
