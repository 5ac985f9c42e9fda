package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same end-to-end flow as {@link FileSourceIT}, driven through fabric8's mock API server in
 * CRUD mode (see {@link MockApi}), and the API server going away and coming back.
 */
class ApiSourceIT {
    static final String WEB_IP = NodeFixture.WEB_IP;
    static final String OTHER_IP = "10.96.0.11";
    static final String SKIPPED_IP = "10.96.0.12";

    @RegisterExtension
    final NodeFixture fx = NodeFixture.api(3);

    private Topology topology;
    private MockApi api;
    private Checks checks;

    @BeforeEach
    void names() {
        topology = fx.topology();
        api = fx.api();
        checks = fx.checks();
    }

    @Test
    void servicesFromTheApiAreServedAndFollowed() {
        fx.web("b1", "b2");
        // a Service another proxy is responsible for must be left alone
        api.apply(Manifests.service("elsewhere", SKIPPED_IP, List.of(Manifests.HTTP))
                .replace("  namespace: default\n", "  namespace: default\n  labels:\n    service.kubernetes.io/service-proxy-name: other-proxy\n"));
        api.apply(Manifests.slice("elsewhere", "elsewhere-1", List.of(Manifests.HTTP), Manifests.ips("b3")));
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        Wait.until("the proxy's Starting event on its Node", Duration.ofSeconds(20), api::eventReasons,
                reasons -> reasons.contains("Starting"));
        for (NetNs client : List.of(topology.pod(), topology.node())) {
            checks.assertTcpReachesAll(client, WEB_IP, 80, Set.of("b1", "b2"));
            checks.assertUdpReachesAll(client, WEB_IP, 53, Set.of("b1", "b2"));
        }
        assertFalse(Rules.servesClusterIp(checks.save(), SKIPPED_IP, 80),
                () -> "a Service labelled service.kubernetes.io/service-proxy-name was programmed\n" + checks.state());
        checks.assertMasqueradeOnlyFromOutside(WEB_IP, 80, Set.of("b1", "b2"));

        fx.web("b1", "b2", "b3");
        checks.awaitTcpAnswer(topology.pod(), WEB_IP, 80, "b3");
        checks.assertTcpReachesAll(topology.node(), WEB_IP, 80, Set.of("b1", "b2", "b3"));

        fx.web("b3");
        checks.awaitDnatTargets(Set.of(Checks.ipPort("b3", 8080)), Set.of(Checks.ipPort("b1", 8080), Checks.ipPort("b2", 8080)));
        checks.assertTcpOnly(topology.pod(), WEB_IP, 80, Set.of("b3"), 15);

        fx.web();
        Wait.until("a filter REJECT for " + WEB_IP + ":80", Checks.PROGRAMMED,
                () -> Rules.rejectsClusterIp(checks.save(), WEB_IP, 80), checks::state);
        checks.assertRefusedFast(topology.pod(), WEB_IP, 80);
        checks.assertRefusedFast(topology.node(), WEB_IP, 80);

        api.delete(Manifests.service("web", WEB_IP, Manifests.ALL_PORTS));
        Wait.until("no rules left for the deleted Service", Checks.PROGRAMMED, () -> {
            String save = checks.save();
            return !Rules.rejectsClusterIp(save, WEB_IP, 80) && !Rules.servesClusterIp(save, WEB_IP, 80)
                    && Rules.kube(save).stream().noneMatch(l -> l.contains("default/web:"));
        }, checks::state);
    }

    @Test
    void rulesStayWhileTheApiServerIsGoneAndChangesMadeMeanwhileAreAppliedAfter() {
        fx.web("b1", "b2");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2"));
        List<String> rulesBefore = Rules.kube(checks.save());

        api.cut();
        fx.web("b2", "b3");
        api.apply(Manifests.service("other", OTHER_IP, List.of(Manifests.HTTP)));
        api.apply(Manifests.slice("other", "other-1", List.of(Manifests.HTTP), Manifests.ips("b3")));
        // nothing to wait for while the server is away: for a while, the rules and traffic must hold
        Wait.during("the rules unchanged and " + WEB_IP + " served while the API server is unreachable",
                Duration.ofSeconds(4),
                () -> Rules.kube(checks.save()).equals(rulesBefore) && fx.proxy().alive(),
                () -> "before:\n" + String.join("\n", rulesBefore) + "\nnow:\n" + checks.state());
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2"));
        assertEquals(rulesBefore, Rules.kube(checks.save()), checks::state);

        api.reconnect();
        checks.awaitDnatTargets(Set.of(Checks.ipPort("b2", 8080), Checks.ipPort("b3", 8080)), Set.of(Checks.ipPort("b1", 8080)));
        checks.awaitServed(OTHER_IP, 80);
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b2", "b3"));
        checks.assertTcpOnly(topology.pod(), OTHER_IP, 80, Set.of("b3"), 5);
        assertTrue(fx.proxy().alive(), checks::state);
    }
}
