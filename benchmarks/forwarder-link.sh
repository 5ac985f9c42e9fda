#!/usr/bin/env bash
# Link-limited bulk throughput of the userspace forwarder (docs/BENCHMARKS.md, "Userspace forwarder"):
# three network namespaces, client -- node -- backend; the node<->backend veth pair is shaped to RATE in
# both directions (tbf), standing in for the node's NIC. The proxy runs in the node namespace as root in
# userspace mode with its real iptables portal rules (REDIRECT); HAProxy (mode tcp, 2 threads) runs there
# too. iperf3 from the client: direct to the backend (routed through the node), through the ClusterIP, and
# through HAProxy; the receiver's rate in Gbit/s. Root only; touches nothing outside its namespaces.
#   RATE=10gbit ROUNDS=3 benchmarks/forwarder-link.sh      (after: mvn -q -B -DskipTests package)
set -euo pipefail
RATE=${RATE:-10gbit}
ROUNDS=${ROUNDS:-3}
JAR=${JAR:-$(cd "$(dirname "$0")/.." && pwd)/proxy/target/proxy.jar}
P=fy-lb$$
C=$P-c; N=$P-n; B=$P-b
cleanup() { ip netns pids $N 2>/dev/null | xargs -r kill 2>/dev/null; ip netns pids $B 2>/dev/null | xargs -r kill 2>/dev/null; ip netns pids $C 2>/dev/null | xargs -r kill 2>/dev/null; sleep 0.5; for n in $C $N $B; do ip netns del $n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in $C $N $B; do ip netns add $n; ip -n $n link set lo up; done
ip -n $N link add vc type veth peer name eth0 netns $C
ip -n $N link add vb type veth peer name eth0 netns $B
ip -n $N addr add 10.1.0.1/24 dev vc; ip -n $N link set vc up
ip -n $C addr add 10.1.0.2/24 dev eth0; ip -n $C link set eth0 up; ip -n $C route add default via 10.1.0.1
ip -n $N addr add 10.2.0.1/24 dev vb; ip -n $N link set vb up
ip -n $B addr add 10.2.0.2/24 dev eth0; ip -n $B link set eth0 up; ip -n $B route add default via 10.2.0.1
ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
# the "NIC": both directions of the node<->backend link shaped
ip netns exec $N tc qdisc add dev vb root tbf rate $RATE burst 4mb latency 20ms
ip netns exec $B tc qdisc add dev eth0 root tbf rate $RATE burst 4mb latency 20ms
ip netns exec $B iperf3 -s -D -B 10.2.0.2 -p 5201
mkdir -p /tmp/$P; trap 'cleanup; rm -rf /tmp/$P' EXIT; cat > /tmp/$P/svc.yaml <<Y
apiVersion: v1
kind: Service
metadata: {name: bulk, namespace: default}
spec:
  clusterIP: 10.96.0.50
  clusterIPs: [10.96.0.50]
  ports: [{name: bulk, port: 5201, protocol: TCP, targetPort: 5201}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bulk-1, namespace: default, labels: {kubernetes.io/service-name: bulk}}
addressType: IPv4
ports: [{name: bulk, port: 5201, protocol: TCP}]
endpoints: [{addresses: [10.2.0.2], conditions: {ready: true}}]
Y
ip netns exec $N java -jar $JAR --proxy-mode=userspace --manifests /tmp/$P --hostname-override=n --healthz-bind-address= --metrics-bind-address= > /tmp/$P/proxy.log 2>&1 &
printf 'global\n  nbthread 2\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 10.1.0.1:6201\n  default_backend b\nbackend b\n  server s 10.2.0.2:5201\n' > /tmp/$P/h.cfg
ip netns exec $N haproxy -D -f /tmp/$P/h.cfg -p /tmp/$P/h.pid
for i in $(seq 100); do ip netns exec $C iperf3 -c 10.96.0.50 -p 5201 -n 1M >/dev/null 2>&1 && break; sleep 0.2; done
run() { ip netns exec $C iperf3 -c $1 -p $2 -P ${3} -n ${4} -J | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9,2))'; }
for r in $(seq "$ROUNDS"); do
  echo "round $r: direct x4 $(run 10.2.0.2 5201 4 8G) x1 $(run 10.2.0.2 5201 1 2G) | ferry(portal) x4 $(run 10.96.0.50 5201 4 8G) x1 $(run 10.96.0.50 5201 1 2G) | haproxy x4 $(run 10.1.0.1 6201 4 8G) x1 $(run 10.1.0.1 6201 1 2G)"
done
echo "portal rules in use: $(ip netns exec $N iptables-save -t nat | grep -c 'REDIRECT') REDIRECT rule(s); link $RATE"
