# A node switching to IPVS mode: the kubelet's chains, then the iptables mode (--once), userspace mode's portal
# chains left by hand, then IPVS mode (--once), then --cleanup. $1 scratch dir (holds v1.yaml, kubelet.rules and
# setup.sh), $2 java, $3 proxy.jar. Sections "== name" are parsed by IpvsModeIT.
T="$1"; JAVA="$2"; JAR="$3"
. "$T/setup.sh"
ip netns exec be socat TCP-LISTEN:8080,bind=10.100.0.2,fork,reuseaddr SYSTEM:"echo backend-2" &
iptables-restore --noflush < "$T/kubelet.rules" || echo "kubelet.rules refused"
mkdir -p "$T/m" && cp "$T/v1.yaml" "$T/m/services.yaml"
ARGS="--manifests $T/m --hostname-override=node-a --healthz-bind-address= --metrics-bind-address= --once"
"$JAVA" -Xmx256m -jar "$JAR" --proxy-mode=iptables $ARGS
rc=$?
echo "== iptables-exit"; echo $rc
# What a userspace-mode proxy leaves: portals redirecting to a listener that is gone.
iptables -t nat -N KUBE-PORTALS-CONTAINER
iptables -t nat -A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 40000
iptables -t nat -I PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" \
    -j KUBE-PORTALS-CONTAINER
iptables -t filter -N KUBE-NODEPORT-NON-LOCAL
iptables -t filter -I INPUT -m comment --comment "Ensure that non-local NodePort traffic can flow" -j KUBE-NODEPORT-NON-LOCAL
echo "== before"; iptables-save
"$JAVA" -Xmx256m -jar "$JAR" --proxy-mode=ipvs $ARGS
rc=$?
echo "== ipvs-exit"; echo $rc
echo "== after-ipvs"; iptables-save
echo "== reply"; ip netns exec cl socat -T 3 -t 2 - TCP:10.96.0.10:80,connect-timeout=3 </dev/null
echo "== cleanup"
"$JAVA" -Xmx256m -jar "$JAR" --cleanup
rc=$?
echo "== cleanup-exit"; echo $rc
echo "== after-cleanup"; iptables-save
echo "== ipvsadm-after-cleanup"; ipvsadm -Ln
echo "== end"
exit 0
