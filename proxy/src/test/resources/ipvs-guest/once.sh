# IPVS mode, one sync (--once), then --cleanup. $1 scratch dir (holds v1.yaml and setup.sh), $2 java,
# $3 proxy.jar. Sections "== name" are parsed by IpvsModeIT.
T="$1"; JAVA="$2"; JAR="$3"
. "$T/setup.sh"
for i in 2 3; do
    ip netns exec be socat TCP-LISTEN:8080,bind=10.100.0.$i,fork,reuseaddr SYSTEM:"echo backend-$i" &
done
mkdir -p "$T/m" && cp "$T/v1.yaml" "$T/m/services.yaml"
"$JAVA" -Xmx256m -jar "$JAR" --proxy-mode=ipvs --ipvs-scheduler=wrr --manifests "$T/m" \
    --ipvs-tcp-timeout=15m --ipvs-udp-timeout=45s \
    --hostname-override=node-a --healthz-bind-address= --metrics-bind-address= --once
rc=$?
echo "== sync-exit"; echo $rc
echo "== ipsets-after-sync"; ipset list -n
echo "== nat-services"; iptables -t nat -S KUBE-SERVICES
echo "== ipvsadm-after-sync"; ipvsadm -Ln
echo "== timeouts"; ipvsadm -L --timeout
echo "== kube-ipvs0"; ip -o addr show dev kube-ipvs0
echo "== sysctls"; echo $(cat /proc/sys/net/ipv4/vs/conntrack /proc/sys/net/ipv4/vs/expire_nodest_conn \
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
