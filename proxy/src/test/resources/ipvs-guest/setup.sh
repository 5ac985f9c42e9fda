# Sourced by the IPVS-mode guest scripts (test tooling, run inside the user-mode-linux guest as root).
# $T is the scratch directory. Leaves: namespace "be" (backends 10.100.0.2-4 behind the node's 10.100.0.1),
# namespace "cl" (client 10.200.0.2 behind the node's 10.200.0.1), the legacy iptables backend first on PATH.

# The rules need netfilter modules this guest cannot autoload (no /lib/modules for its kernel).
mkdir -p "$T/mods/lib" && ln -sfn /usr/lib/uml/modules "$T/mods/lib/modules"
# One modprobe for all of them: every process start is slow in this guest.
modprobe -a -q -d "$T/mods" $(find /usr/lib/uml/modules/*/kernel/net/netfilter /usr/lib/uml/modules/*/kernel/net/ipv4/netfilter \
        /usr/lib/uml/modules/*/kernel/net/ipv6/netfilter /usr/lib/uml/modules/*/kernel/drivers/net \
        \( -path '*netfilter*' -o -name 'veth.ko*' \) -name '*.ko*' -printf '%f\n' | sed 's/\.ko.*$//')
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
ip -n be link set lo up; ip -n be link set be0 up
for i in 2 3 4; do ip -n be addr add 10.100.0.$i/24 dev be0; done
ip -n be route add default via 10.100.0.1
ip -n cl link set lo up; ip -n cl addr add 10.200.0.2/24 dev cl0; ip -n cl link set cl0 up
ip -n cl route add default via 10.200.0.1
set +e

# wait_for SECONDS COMMAND...: polls the command (a shell line) until it succeeds; 1 when the bound passes.
wait_for() {
    limit=$(( $1 * 10 )); shift; n=0
    until sh -c "$*" >/dev/null 2>&1; do
        n=$((n + 1))
        if [ "$n" -ge "$limit" ]; then echo "timed out waiting for: $*"; return 1; fi
        sleep 0.1
    done
}
