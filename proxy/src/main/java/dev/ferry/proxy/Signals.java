package dev.ferry.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT end the proxy in an orderly way (sources stopped, rules left in place,
 * exit status 0) instead of the JVM's default exit by signal.
 *
 * <p>Why sun.misc.Signal: a shutdown hook would also run on SIGTERM, but the JVM would then exit
 * with status 143. Signal is one of the internal APIs JEP 260 keeps available on purpose
 * (module jdk.unsupported); javac warns about it all the same.
 *
 * <p>Threads: the JVM runs the handler on its own signal thread; it only calls {@code stop}.
 */
final class Signals {

    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    static void onTermination(Runnable stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> {
                    log.info("SIG{} received", s.getName());
                    stop.run();
                });
            } catch (IllegalArgumentException e) {
                log.debug("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }
}
