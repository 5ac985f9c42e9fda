package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * iptables-restore failing for real: a foreign rule jumps to one of our KUBE-SEP chains, so the
 * kernel refuses to delete that chain when its endpoint goes away (CHAIN_DEL: Device or resource
 * busy) and the restore is rejected. The proxy must retry, count the failures, leave no partial
 * state, and converge once the foreign rule is gone.
 *
 * <p>How the fault is made: an iptables rule ({@code -j KUBE-SEP-…}) would not do, since the proxy
 * reads iptables-save, sees the reference and keeps that chain instead of failing. The foreign
 * rule is written with nft in the same {@code ip nat} table as a verdict map, which iptables-save
 * cannot show (it prints an empty {@code -A ADMIN-HOLD}), as a tool speaking nft directly would.
 * (The xtables lock is no fault with the nf_tables backend: iptables-restore does not wait for it.)
 */
class RestoreFailureIT {
    static final String WEB_IP = NodeFixture.WEB_IP;

    /** A number within a few words of "failure(s)", "attempt(s)" or "retries", in either order. */
    private static final java.util.regex.Pattern COUNT = java.util.regex.Pattern.compile(
            "(?i)(?:failures?|attempts?|retries)[^\\d|]{0,20}?(\\d+)|(\\d+)[^\\d|]{0,20}?(?:failures?|attempts?|retries)");

    /** The largest failure count an entry states, or 0. */
    private static int statedCount(String entry) {
        java.util.regex.Matcher m = COUNT.matcher(entry);
        int max = 0;
        while (m.find()) {
            String n = m.group(1) != null ? m.group(1) : m.group(2);
            if (n.length() < 6) {
                max = Math.max(max, Integer.parseInt(n));
            }
        }
        return max;
    }

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    /** A log entry saying a sync failed in iptables-restore and will be retried. */
    private static boolean reportsRestoreFailure(String entry) {
        String l = entry.toLowerCase(Locale.ROOT);
        return l.contains("iptables-restore") && l.contains("fail") && l.contains("retry");
    }

    @Test
    void aRejectedRestoreIsRetriedCountedAndLeavesNoPartialState() {
        Topology topology = fx.topology();
        Checks checks = fx.checks();
        fx.web("b1", "b2");
        Proc proxy = fx.startProxy();
        String b1 = Checks.ipPort("b1", Topology.NAME_TCP_PORT);
        String b2 = Checks.ipPort("b2", Topology.NAME_TCP_PORT);
        checks.awaitDnatTargets(Set.of(b1, b2), Set.of());
        String sepB2 = Rules.sepChainFor(checks.save(), b2)
                .orElseThrow(() -> new AssertionError("no KUBE-SEP chain for " + b2 + "\n" + checks.state()));

        NetNs node = topology.node();
        node.check("iptables", "-t", "nat", "-N", "ADMIN-HOLD");
        node.check("nft", "add", "rule", "ip", "nat", "ADMIN-HOLD", "ip", "daddr", "vmap", "{ 192.0.2.1 : jump " + sepB2 + " }");
        List<String> held = Rules.lines(node.iptablesSave());
        int logMark = proxy.errLines().size();

        fx.web("b1");
        List<String> failures = Wait.until("two failed iptables-restore attempts reported (with \"retrying\") after removing b2", Checks.PROGRAMMED,
                () -> ProxyProcess.logEntries(proxy.errLines().subList(logMark, proxy.errLines().size())).stream()
                        .filter(RestoreFailureIT::reportsRestoreFailure).toList(),
                lines -> lines.size() >= 2,
                lines -> "failure reports: " + lines + "\n" + checks.state());
        List<String> during = Rules.lines(node.iptablesSave());
        assertEquals(held, during, () -> "the failed restores changed the rules (partial state)\n" + checks.state());
        // the old rules still work: both endpoints answer
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2"));

        node.check("nft", "flush", "chain", "ip", "nat", "ADMIN-HOLD");
        checks.awaitDnatTargets(Set.of(b1), Set.of(b2));
        String after = node.iptablesSave();
        assertFalse(after.contains(sepB2), () -> "the stale chain " + sepB2 + " is still there\n" + checks.state());
        assertTrue(Rules.foreign(after).contains("nat: :ADMIN-HOLD - [0:0]"),
                () -> "the admin's (now empty) chain was removed: it is not ours\n" + after);
        checks.assertTcpOnly(topology.pod(), WEB_IP, 80, Set.of("b1"), 10);
        assertTrue(proxy.alive(), checks::state);
        // counted: by the second report the log says at least two restores failed
        assertTrue(failures.stream().anyMatch(l -> statedCount(l) >= 2),
                () -> "expected the failure reports to count the failed restores (e.g. \"2 restore failures\"): " + failures);
    }
}
