package dev.ferry.iptables;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import io.fabric8.kubernetes.api.model.Service;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A reproducible random sequence of Service and endpoint changes on a small cluster (every
 * Service kind a partial sync can touch: ClusterIP, NodePort, LoadBalancer with source ranges,
 * externalTrafficPolicy Local), for comparing the rules after partial syncs with what one full
 * sync writes. {@link #log} says what happened, for failure messages.
 */
final class RandomChanges {

    static final int SERVICES = 5;

    private final Random random;
    final TestSnapshots snapshots = new TestSnapshots();
    private final Service[] present = new Service[SERVICES];
    final List<String> log = new ArrayList<>();

    RandomChanges(long seed) {
        this.random = new Random(seed);
        log.add("seed " + seed);
        for (int i = 0; i < SERVICES; i++) {
            if (random.nextBoolean()) {
                setService(i, random.nextInt(4));
                setEndpoints(i);
            }
        }
    }

    /** One to three random changes. */
    RandomChanges step() {
        int n = 1 + random.nextInt(3);
        for (int k = 0; k < n; k++) {
            int i = random.nextInt(SERVICES);
            int op = random.nextInt(10);
            if (op < 6) {
                setEndpoints(i);
            } else if (op < 8 && present[i] != null) {
                log.add("remove svc" + i);
                snapshots.remove(present[i]);
                present[i] = null;
            } else {
                setService(i, random.nextInt(4));
            }
        }
        return this;
    }

    /** Only svc{@code i}'s endpoint addresses move, their count stays (the common partial sync). */
    RandomChanges moveOneEndpoint(int i, int round) {
        snapshots.add(Fixtures.slice("ns" + i, "s" + i, "svc" + i, "p80", 80, "TCP",
                Ep.ready("10.1." + i + ".1"), Ep.ready("10.2." + i + "." + (1 + round % 250)).onNode(TestSnapshots.NODE)));
        log.add("move one endpoint of svc" + i);
        return this;
    }

    private void setService(int i, int kind) {
        String ip = "172.30.0." + (40 + i);
        int nodePort = 30000 + i;
        Service s = switch (kind) {
            case 0 -> Svc.of("ns" + i, "svc" + i, "ClusterIP", ip).p80(0).build();
            case 1 -> Svc.of("ns" + i, "svc" + i, "NodePort", ip).p80(nodePort).build();
            case 2 -> Svc.of("ns" + i, "svc" + i, "LoadBalancer", ip).p80(nodePort).lb("192.0.2." + (10 + i))
                    .sourceRanges("203.0.113.0/24").build();
            default -> Svc.of("ns" + i, "svc" + i, "LoadBalancer", ip).p80(nodePort).lb("192.0.2." + (10 + i))
                    .externalIPs("198.51.100." + (10 + i)).etpLocal(32000 + i).build();
        };
        log.add("svc" + i + " kind " + kind);
        snapshots.add(s);
        present[i] = s;
    }

    private void setEndpoints(int i) {
        int count = random.nextInt(4);
        List<Ep> eps = new ArrayList<>();
        StringBuilder what = new StringBuilder("endpoints of svc" + i + ":");
        for (int k = 0; k < count; k++) {
            Ep ep = Ep.ready("10." + (1 + random.nextInt(2)) + "." + i + "." + (1 + random.nextInt(6)));
            if (eps.stream().anyMatch(e -> e.ip().equals(ep.ip()))) {
                continue;
            }
            Ep chosen = random.nextBoolean() ? ep.onNode(TestSnapshots.NODE) : ep;
            if (random.nextInt(5) == 0) {
                chosen = chosen.terminating(true);
            }
            eps.add(chosen);
            what.append(' ').append(chosen.ip()).append(chosen.terminating() ? "(terminating)" : "")
                    .append(chosen.nodeName() != null ? "(local)" : "");
        }
        log.add(what.toString());
        snapshots.add(Fixtures.slice("ns" + i, "s" + i, "svc" + i, "p80", 80, "TCP", eps.toArray(Ep[]::new)));
    }
}
