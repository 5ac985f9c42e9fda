package dev.ferry.proxy.e2e;

import dev.ferry.ipvs.uml.UmlGuest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `--proxy-mode=ipvs` end to end, inside the user-mode-linux kernel (this machine's has no IPVS): the built
 * proxy.jar syncs a manifests directory once, then `ipvsadm -Ln` must list exactly the service's virtual server
 * with the chosen scheduler and both endpoints, kube-ipvs0 must carry the ClusterIP, and TCP connections from a
 * client namespace to the ClusterIP must reach both socat backends in a backend namespace; `--cleanup` must leave
 * no IPVS service, no kube-ipvs0 and no KUBE-* ipset.
 *
 * <p>It lives in the proxy module because it needs proxy.jar, which is built after the ipvs module; the guest
 * harness comes from the ipvs test-jar. One guest boot runs everything (the guest sees the host filesystem, so
 * the JDK, the jar and the manifests written here); the guest-side steps are a shell script of test tooling
 * (namespaces, veths, socat), whose output this test parses. Everything it creates lives inside the guest and
 * ends with it; /run/netns is a tmpfs there so nothing lands on the host.
 */
class IpvsModeIT {

    private static final String CLUSTER_IP = "10.96.0.10";

    @Test
    void ipvsModeProgramsTheKernelServesTheClusterIpAndCleansUp(@TempDir Path dir) throws IOException {
        String why = UmlGuest.unavailability();
        Assumptions.assumeTrue(why == null, why);
        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("web.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  clusterIP: 10.96.0.10
                  clusterIPs: [10.96.0.10]
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: web-1
                  namespace: default
                  labels: {kubernetes.io/service-name: web}
                addressType: IPv4
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints:
                  - {addresses: [10.100.0.2], conditions: {ready: true}, nodeName: node-b}
                  - {addresses: [10.100.0.3], conditions: {ready: true}, nodeName: node-b}
                ---
                apiVersion: v1
                kind: Node
                metadata: {name: node-a}
                """, StandardCharsets.UTF_8);
        Path script = dir.resolve("guest.sh");
        Files.writeString(script, guestScript(), StandardCharsets.UTF_8);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        UmlGuest.Result r = UmlGuest.run(Duration.ofMinutes(4), List.of(List.of("sh", script.toString(),
                dir.toString(), java, ProxyProcess.jar().toString(), manifests.toString())));

        String out = r.output();
        System.out.println("guest transcript:\n" + out);
        assertEquals(0, r.exit(), out);
        assertEquals("0", section(out, "sync-exit").strip(), "the --once sync worked:\n" + out);
        assertTrue(section(out, "ipsets-after-sync").lines().anyMatch(l -> l.equals("KUBE-CLUSTER-IP")), out);
        assertTrue(section(out, "nat-services").contains("--match-set KUBE-CLUSTER-IP"), out);
        assertEquals(List.of("TCP 10.96.0.10:80 wrr", "-> 10.100.0.2:8080 Masq 1", "-> 10.100.0.3:8080 Masq 1"),
                ipvsTable(section(out, "ipvsadm-after-sync")), out);
        // --ipvs-tcpfin-timeout is 0: the kernel's 120 s stays
        assertTrue(section(out, "timeouts").contains("Timeout (tcp tcpfin udp): 900 120 45"), out);
        assertTrue(section(out, "kube-ipvs0").contains("inet " + CLUSTER_IP + "/32"), out);
        assertEquals("1 1 1 1", section(out, "sysctls").strip(), "conntrack, expire_nodest_conn, "
                + "expire_quiescent_template, ip_forward:\n" + out);
        List<String> replies = section(out, "replies").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        assertEquals(4, replies.size(), "every connection got an answer:\n" + out);
        assertTrue(replies.contains("backend-2") && replies.contains("backend-3"), "both backends reached: "
                + replies + "\n" + out);
        assertTrue(replies.stream().allMatch(l -> l.equals("backend-2") || l.equals("backend-3")), out);

        assertEquals("0", section(out, "cleanup-exit").strip(), "--cleanup worked:\n" + out);
        assertEquals(List.of(), ipvsTable(section(out, "ipvsadm-after-cleanup")), out);
        assertTrue(section(out, "link-after-cleanup").contains("absent"), "kube-ipvs0 is gone:\n" + out);
        assertTrue(section(out, "ipsets-after-cleanup").lines().noneMatch(l -> l.startsWith("KUBE-")),
                "no KUBE-* ipset left:\n" + out);
        assertTrue(section(out, "nat-after-cleanup").lines().noneMatch(l -> l.contains("KUBE-")),
                "no KUBE-* chain or jump left:\n" + out);
    }

    /** The guest's steps; $1 scratch dir, $2 java, $3 proxy.jar, $4 manifests. Sections are marked for parsing. */
    private static String guestScript() {
        return """
                T="$1"; JAVA="$2"; JAR="$3"; M="$4"
                # The rules need netfilter modules this guest cannot autoload (no /lib/modules for its kernel).
                mkdir -p "$T/mods/lib" && ln -sfn /usr/lib/uml/modules "$T/mods/lib/modules"
                for f in $(find /usr/lib/uml/modules/*/kernel/net/netfilter /usr/lib/uml/modules/*/kernel/net/ipv4/netfilter \\
                        /usr/lib/uml/modules/*/kernel/net/ipv6/netfilter /usr/lib/uml/modules/*/kernel/drivers/net \\
                        -name '*.ko*' \\( -path '*netfilter*' -o -name 'veth.ko*' \\)); do
                    n=$(basename "$f"); modprobe -d "$T/mods" "${n%%.ko*}" 2>/dev/null
                done
                # Debian's UML kernel has no nft nat chain type (no nft_chain_nat), so iptables-nft cannot make a nat
                # table there: the proxy's iptables commands run the legacy backend inside the guest.
                mkdir -p "$T/bin"
                for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
                    ln -sfn /usr/sbin/xtables-legacy-multi "$T/bin/$n"
                done
                export PATH="$T/bin:$PATH"
                mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns; }
                set -e
                ip netns add be; ip netns add cl
                ip link add n-be type veth peer name be0 netns be
                ip link add n-cl type veth peer name cl0 netns cl
                ip addr add 10.100.0.1/24 dev n-be; ip link set n-be up
                ip addr add 10.200.0.1/24 dev n-cl; ip link set n-cl up
                ip -n be link set lo up; ip -n be addr add 10.100.0.2/24 dev be0; ip -n be addr add 10.100.0.3/24 dev be0
                ip -n be link set be0 up; ip -n be route add default via 10.100.0.1
                ip -n cl link set lo up; ip -n cl addr add 10.200.0.2/24 dev cl0; ip -n cl link set cl0 up
                ip -n cl route add default via 10.200.0.1
                ip netns exec be socat TCP-LISTEN:8080,bind=10.100.0.2,fork,reuseaddr SYSTEM:'echo backend-2' &
                ip netns exec be socat TCP-LISTEN:8080,bind=10.100.0.3,fork,reuseaddr SYSTEM:'echo backend-3' &
                set +e
                "$JAVA" -Xmx256m -jar "$JAR" --proxy-mode=ipvs --ipvs-scheduler=wrr --manifests "$M" \\
                    --ipvs-tcp-timeout=15m --ipvs-udp-timeout=45s \\
                    --hostname-override=node-a --healthz-bind-address= --metrics-bind-address= --once
                rc=$?
                echo "== sync-exit"; echo $rc
                echo "== ipsets-after-sync"; ipset list -n
                echo "== nat-services"; iptables -t nat -S KUBE-SERVICES
                echo "== ipvsadm-after-sync"; ipvsadm -Ln
                echo "== timeouts"; ipvsadm -L --timeout
                echo "== kube-ipvs0"; ip -o addr show dev kube-ipvs0
                echo "== sysctls"; echo $(cat /proc/sys/net/ipv4/vs/conntrack /proc/sys/net/ipv4/vs/expire_nodest_conn \\
                    /proc/sys/net/ipv4/vs/expire_quiescent_template /proc/sys/net/ipv4/ip_forward)
                echo "== replies"
                for i in 1 2 3 4; do
                    ip netns exec cl socat -T 3 -t 2 - TCP:10.96.0.10:80,connect-timeout=3 </dev/null
                done
                echo "== cleanup"
                "$JAVA" -Xmx256m -jar "$JAR" --cleanup
                rc=$?
                echo "== cleanup-exit"; echo $rc
                echo "== ipvsadm-after-cleanup"; ipvsadm -Ln
                echo "== link-after-cleanup"; ip link show kube-ipvs0 >/dev/null 2>&1 && echo present || echo absent
                echo "== ipsets-after-cleanup"; ipset list -n
                echo "== nat-after-cleanup"; iptables -t nat -S
                echo "== end"
                exit 0
                """;
    }

    /** The lines after "== name" up to the next marker. */
    private static String section(String out, String name) {
        int start = out.indexOf("== " + name + "\n");
        if (start < 0) {
            throw new AssertionError("no section " + name + " in the guest's output:\n" + out);
        }
        start += name.length() + 4;
        int end = out.indexOf("\n== ", start - 1);
        return end < 0 ? out.substring(start) : out.substring(start, end + 1);
    }

    private static final Pattern SERVICE = Pattern.compile("^(TCP|UDP|SCTP)\\s+(\\S+)\\s+(\\S+).*$");
    private static final Pattern REAL = Pattern.compile("^\\s*->\\s+(\\d\\S*)\\s+(\\S+)\\s+(\\d+)\\s+\\d+\\s+\\d+\\s*$");

    /** ipvsadm -Ln as "PROTO VIP:PORT SCHED" and "-> RIP:PORT FWD WEIGHT" lines, headers dropped. */
    static List<String> ipvsTable(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher s = SERVICE.matcher(line);
            Matcher d = REAL.matcher(line);
            if (s.matches()) {
                out.add(s.group(1) + " " + s.group(2) + " " + s.group(3));
            } else if (d.matches()) {
                out.add("-> " + d.group(1) + " " + d.group(2) + " " + d.group(3));
            }
        }
        return out;
    }
}
