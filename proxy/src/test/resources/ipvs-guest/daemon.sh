# IPVS mode, the proxy running as a daemon in the guest: ClusterIP and NodePort, TCP and UDP, an endpoint change,
# the drain of a removed endpoint with an open connection, and the UDP conntrack cleanup.
# $1 scratch dir (holds v1.yaml, v2.yaml and setup.sh), $2 java, $3 proxy.jar. Sections "== name" are parsed by
# IpvsModeIT.
T="$1"; JAVA="$2"; JAR="$3"
. "$T/setup.sh"
for i in 2 3 4; do
    ip netns exec be socat TCP-LISTEN:8080,bind=10.100.0.$i,fork,reuseaddr SYSTEM:"echo backend-$i" &
    ip netns exec be socat UDP4-RECVFROM:8081,bind=10.100.0.$i,fork SYSTEM:"echo backend-$i" &
    ip netns exec be socat TCP-LISTEN:9090,bind=10.100.0.$i,fork,reuseaddr SYSTEM:"echo backend-$i; cat" &
done
mkdir -p "$T/m" && cp "$T/v1.yaml" "$T/m/services.yaml"
"$JAVA" -Xmx256m -jar "$JAR" --proxy-mode=ipvs --manifests "$T/m" --hostname-override=node-a \
    --ipvs-sync-period=2s --ipvs-min-sync-period=0s --healthz-bind-address= --metrics-bind-address= \
    > "$T/proxy.log" 2>&1 &
PROXY=$!

tcp() { ip netns exec cl socat -T 3 -t 2 - "TCP:$1,connect-timeout=3" </dev/null; }
udp() { echo ping | ip netns exec cl socat -T 2 -t 2 - "UDP4:$1"; }
replies() {
    for i in 1 2 3 4; do echo "tcp-cluster $(tcp 10.96.0.10:80)"; done
    for i in 1 2 3 4; do echo "tcp-nodeport $(tcp 10.200.0.1:30080)"; done
    for i in 1 2 3 4; do echo "udp-cluster $(udp 10.96.0.10:81)"; done
    for i in 1 2 3 4; do echo "udp-nodeport $(udp 10.200.0.1:30081)"; done
}

wait_for 60 "ipvsadm -Ln | grep -q '10.96.0.30:53'"
echo "== ipvsadm-v1"; ipvsadm -Ln
echo "== replies-v1"; replies
echo "== inspect-services-v1"; "$JAVA" -jar "$JAR" inspect services --manifests "$T/m" --hostname-override=node-a
echo "== trace-v1"; "$JAVA" -jar "$JAR" trace --src 10.200.0.2 --dst 10.96.0.10 --port 80 --proto tcp
echo "== udp-pinned-v1"; udp 10.96.0.30:53,sourceport=40000,reuseaddr
echo "== conntrack-v1"; conntrack -L -p udp --orig-dst 10.96.0.30 2>/dev/null
# A connection that stays open to the one endpoint of "hold"; killed later, its socket resets (linger 0).
sleep 300 | ip netns exec cl socat - TCP:10.96.0.20:90,linger=0 > "$T/hold.out" &
wait_for 10 "grep -q backend-3 '$T/hold.out'"
echo "== hold-greeting"; cat "$T/hold.out"

cp "$T/v2.yaml" "$T/m/.services.tmp" && mv "$T/m/.services.tmp" "$T/m/services.yaml"
wait_for 60 "ipvsadm -Ln -t 10.96.0.20:90 | grep -q '10.100.0.4:9090'"
echo "== ipvsadm-v2"; ipvsadm -Ln
echo "== trace-draining"; "$JAVA" -jar "$JAR" trace --src 10.200.0.2 --dst 10.96.0.20 --port 90 --proto tcp
echo "== replies-v2"; replies
wait_for 20 "! conntrack -L -p udp --orig-dst 10.96.0.30 --reply-src 10.100.0.2 2>/dev/null | grep -q udp"
echo "== conntrack-v2"; conntrack -L -p udp --orig-dst 10.96.0.30 2>/dev/null
echo "== udp-pinned-v2"; udp 10.96.0.30:53,sourceport=40000,reuseaddr

# The open connection ends with a reset: IPVS keeps it 10 s in CLOSE, then a sync deletes the drained server.
pkill -KILL -f 'TCP:10.96.0.20:90'
wait_for 60 "! ipvsadm -Ln -t 10.96.0.20:90 | grep -q '10.100.0.3:9090'"
echo "== ipvsadm-drained"; ipvsadm -Ln

kill -TERM $PROXY; wait $PROXY; rc=$?
echo "== proxy-exit"; echo $rc
echo "== proxy-log"; cat "$T/proxy.log"
echo "== end"
exit 0
