package dev.ferry.mode.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePortState;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;

/**
 * One mode's view of the live node for {@code inspect} and {@code trace}: whether the node runs
 * the mode, what is programmed for a service port, and where a packet goes. One view serves one
 * report: it may read the node once and keep what it read. A read that fails is shown in the
 * report instead of the answer.
 */
public interface ModeView {

    /** Why the node appears to run this mode, and how sure that is. */
    record Evidence(String how, boolean definite) {

        /** Only this mode leaves it (a link, a table of its own). */
        public static Evidence definite(String how) {
            return new Evidence(how, true);
        }

        /** Other modes may leave it too (e.g. nat KUBE-SERVICES): it counts when nothing definite is found. */
        public static Evidence fallback(String how) {
            return new Evidence(how, false);
        }
    }

    /** What the node shows of this mode, or empty. */
    Optional<Evidence> detect() throws IOException;

    /** What {@link #detect} looks for, said as missing ("no kube-ipvs0, no IPVS service"), for the error when no mode is found. */
    String lookedFor();

    /** One short cell: "yes (KUBE-SVC-…)", "NO (…)", "unknown: …". */
    String summary(ServicePortState state, IpFamily family);

    /** What is programmed for the port in a family, as indented lines ("    …\n"). */
    String details(ServicePortState state, IpFamily family);

    /**
     * A new connection's first packet through the live node: the path, the endpoints it can reach
     * with their probability, and whether it is masqueraded.
     *
     * @param masqueradeMark the proxy's masquerade mark (1 << --iptables-masquerade-bit)
     * @param warnings       where to say what could not be read, when the trace goes on without it
     */
    String trace(TraceRequest request, long masqueradeMark, PrintStream warnings) throws IOException;
}
