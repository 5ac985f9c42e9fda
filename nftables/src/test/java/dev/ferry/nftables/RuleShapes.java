package dev.ferry.nftables;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;

import static dev.ferry.nftables.DataType.INET_PROTO;
import static dev.ferry.nftables.DataType.INET_SERVICE;
import static dev.ferry.nftables.DataType.INTEGER;
import static dev.ferry.nftables.DataType.IPV4_ADDR;
import static dev.ferry.nftables.Expression.REG_1;
import static dev.ferry.nftables.Expression.REG_2;
import static dev.ferry.nftables.Expression.reg32;
import static dev.ferry.nftables.NftCodecTest.ip;

/**
 * The objects and rules of resources nft-netlink/objects.txt and rules.txt (upstream nftables-mode shapes: service dispatch
 * vmaps, the ct state guard, reject, source-range drop with an anonymous interval set, masquerading
 * with the mark, the hairpin set, affinity, numgen DNAT with a verdict map and with a data map) built
 * with this client and added to {@code nft} in the script's order, each anonymous set just before its rule.
 */
final class RuleShapes {

    static final Table T = new Table(TableFamily.IPV4, "t");
    static final int TCP = 6;
    static final int UDP = 17;

    private RuleShapes() {
    }

    /** resources nft-netlink/objects.txt: a table, base and regular chains, sets and maps with elements. */
    static void objects(Nftables nft) {
        nft.addTable(T, "rules for kube-proxy");
        Chain services = Chain.regular(T, "services").withComment("dispatch to services");
        nft.addChain(services);
        nft.addChain(Chain.base(T, "nat-prerouting", Chain.Type.NAT, Chain.Hook.PREROUTING, -100));
        nft.addChain(Chain.base(T, "filter-input", Chain.Type.FILTER, Chain.Hook.INPUT, 0));
        nft.addChain(Chain.base(T, "nat-postrouting", Chain.Type.NAT, Chain.Hook.POSTROUTING, 100));
        nft.addChain(new Chain(T, "filter-forward", new Chain.Base(Chain.Type.FILTER, Chain.Hook.FORWARD, -110,
                Chain.Policy.DROP), null));
        nft.addSet(NftSet.of(T, "cluster-ips", IPV4_ADDR).withComment("Active ClusterIPs"),
                List.of(Element.of(ip("172.30.0.41")), Element.of(ip("172.30.0.42"))));
        nft.addSet(NftSet.verdictMap(T, "service-ips", IPV4_ADDR, INET_PROTO, INET_SERVICE)
                        .withComment("ClusterIP, ExternalIP and LoadBalancer IP traffic"),
                List.of(Element.of(Data.concat(ip("172.30.0.41"), Data.protocol(TCP), Data.port(80)),
                        Verdict.goTo("services"))));
        nft.addSet(NftSet.verdictMap(T, "no-endpoint-services", IPV4_ADDR, INET_PROTO, INET_SERVICE),
                List.of(Element.of(Data.concat(ip("172.30.0.42"), Data.protocol(UDP), Data.port(53)), Verdict.DROP)
                        .withComment("ns1/svc2:dns")));
        nft.addSet(NftSet.verdictMap(T, "service-nodeports", INET_PROTO, INET_SERVICE),
                List.of(Element.of(Data.concat(Data.protocol(TCP), Data.port(30080)), Verdict.goTo("services"))));
        nft.addSet(NftSet.of(T, "affinity-x", IPV4_ADDR).withFlags(EnumSet.of(NftSet.Flag.DYNAMIC, NftSet.Flag.TIMEOUT))
                .withTimeout(Duration.ofHours(3)), List.of());
        nft.addSet(NftSet.of(T, "hairpin-connections", IPV4_ADDR, IPV4_ADDR, INET_PROTO, INET_SERVICE),
                List.of(Element.of(Data.concat(ip("10.180.0.1"), ip("10.180.0.1"), Data.protocol(TCP), Data.port(80)))));
        nft.addSet(NftSet.of(T, "timed", IPV4_ADDR).withFlags(Set.of(NftSet.Flag.TIMEOUT)),
                List.of(Element.of(ip("10.1.2.3")).withTimeout(Duration.ofSeconds(10))));
        nft.addSet(NftSet.of(T, "ranges", IPV4_ADDR).withFlags(Set.of(NftSet.Flag.INTERVAL)),
                List.of(Element.intervalEnd(ip("0.0.0.0")), Element.of(ip("10.0.0.0")), Element.intervalEnd(ip("11.0.0.0"))));
        nft.addSet(new NftSet(T, "dnat-targets", List.of(DataType.MARK), List.of(IPV4_ADDR, INET_SERVICE), Set.of(), null,
                null, 0, null), List.of(Element.of(Data.hostU32(0x4000), Data.concat(ip("10.180.0.1"), Data.port(80)))));

    }

    /**
     * resources nft-netlink/local-traffic.txt: the shapes of upstream's local-traffic tests (fib saddr
     * type local, an interface prefix, a CIDR that is not byte-aligned) and a ct original address.
     */
    static void localTraffic(Nftables nft) {
        nft.addTable(T, null);
        Chain x = Chain.regular(T, "x");
        Chain y = Chain.regular(T, "y");
        nft.addChain(x);
        nft.addChain(y);
        nft.addRule(Rule.of(y, Fib.addressType(true, REG_1), Cmp.eq(REG_1, Data.hostU32(Fib.RTN_LOCAL)),
                Immediate.verdict(Verdict.jump("x"))).withComment("masquerade local traffic"));
        nft.addRule(Rule.of(y, Meta.load(Meta.Key.IIFNAME, REG_1), Cmp.eq(REG_1, Data.of("veth".getBytes(
                java.nio.charset.StandardCharsets.US_ASCII))), Immediate.verdict(Verdict.goTo("x"))));
        nft.addRule(Rule.of(y, Payload.ipSource(REG_1), Bitwise.and(REG_1, Data.be32(0xfff00000L)),
                Cmp.neq(REG_1, ip("10.96.0.0")), Immediate.verdict(Verdict.jump("x"))));
        nft.addRule(Rule.of(y, new Ct(Ct.Key.DST_IP, REG_1, 0), Cmp.eq(REG_1, ip("10.0.0.1")),
                Immediate.verdict(Verdict.ACCEPT)));
    }

    /** resources nft-netlink/inet.txt: an inet table with SNAT and an icmpx reject. */
    static void inet(Nftables nft) {
        Table t = new Table(TableFamily.INET, "t");
        nft.addTable(t, null);
        Chain postrouting = Chain.base(t, "postrouting", Chain.Type.NAT, Chain.Hook.POSTROUTING, 100);
        Chain input = Chain.base(t, "input", Chain.Type.FILTER, Chain.Hook.INPUT, 0);
        nft.addChain(postrouting);
        nft.addChain(input);
        nft.addRule(Rule.of(postrouting, Meta.load(Meta.Key.NFPROTO, REG_1),
                Cmp.eq(REG_1, Data.protocol(TableFamily.IPV4.number())), Immediate.value(REG_1, ip("10.0.0.1")),
                new Nat(Nat.Type.SNAT, TableFamily.IPV4.number(), REG_1, 0, 0, 0, 0)));
        nft.addRule(Rule.of(input, Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, Data.protocol(TCP)),
                Reject.ICMPX_PORT_UNREACHABLE));
    }

    /**
     * resources nft-netlink/typeof.txt: NFTABLES.md section 6's scale layout, one map from service address,
     * port and a random number to the endpoint, declared by typeof (nft cannot print it declared by type).
     */
    static void typeof(Nftables nft) {
        nft.addTable(T, null);
        Chain services = Chain.regular(T, "services");
        nft.addChain(services);
        NftSet endpoints = nft.addSet(NftSet.typeof(T, "endpoints", List.of(SetField.ipDestination(),
                SetField.tcpDestinationPort(), SetField.numgenRandom(2)), List.of(SetField.ipDestination(),
                SetField.tcpDestinationPort())), List.of(Element.of(Data.concat(ip("172.30.0.41"), Data.port(80),
                Data.hostU32(0)), Data.concat(ip("10.180.0.1"), Data.port(8080))), Element.of(Data.concat(
                ip("172.30.0.41"), Data.port(80), Data.hostU32(1)), Data.concat(ip("10.180.0.2"), Data.port(8080)))));
        nft.addRule(Rule.of(services, Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, Data.protocol(TCP)),
                Payload.ipDestination(REG_1), Payload.transportDestinationPort(reg32(1)), Numgen.random(reg32(2), 2),
                Lookup.map(endpoints, REG_1, REG_1),
                new Nat(Nat.Type.DNAT, TableFamily.IPV4.number(), REG_1, 0, reg32(1), 0, 0)));
    }

    /** resources nft-netlink/rules.txt; returns the rules as added. */
    static List<Rule> rules(Nftables nft) throws java.io.IOException {
        nft.addTable(T, null);
        Chain a = Chain.regular(T, "a");
        Chain b = Chain.regular(T, "b");
        Chain services = Chain.regular(T, "services");
        Chain input = Chain.base(T, "filter-input", Chain.Type.FILTER, Chain.Hook.INPUT, 0);
        Chain masquerading = Chain.regular(T, "masquerading");
        Chain svc = Chain.regular(T, "svc");
        Chain ep = Chain.regular(T, "ep");
        Chain fw = Chain.regular(T, "fw");
        for (Chain c : List.of(a, b, services, input, masquerading, svc, ep, fw)) {
            nft.addChain(c);
        }
        NftSet clusterIps = nft.addSet(NftSet.of(T, "cluster-ips", IPV4_ADDR), List.of());
        NftSet serviceIps = nft.addSet(NftSet.verdictMap(T, "service-ips", IPV4_ADDR, INET_PROTO, INET_SERVICE), List.of());
        NftSet nodePorts = nft.addSet(NftSet.verdictMap(T, "service-nodeports", INET_PROTO, INET_SERVICE), List.of());
        NftSet affinity = nft.addSet(NftSet.of(T, "affinity-x", IPV4_ADDR)
                .withFlags(EnumSet.of(NftSet.Flag.DYNAMIC, NftSet.Flag.TIMEOUT)).withTimeout(Duration.ofHours(3)), List.of());
        NftSet hairpin = nft.addSet(NftSet.of(T, "hairpin-connections", IPV4_ADDR, IPV4_ADDR, INET_PROTO, INET_SERVICE),
                List.of());
        return upstream(T, a, b, services, input, masquerading, svc, ep, fw, clusterIps, serviceIps, nodePorts,
                affinity, hairpin, nft);
    }

    @SuppressWarnings("checkstyle:ParameterNumber")
    private static List<Rule> upstream(Table t, Chain a, Chain b, Chain services, Chain input, Chain masquerading, Chain svc,
                               Chain ep, Chain fw, NftSet clusterIps, NftSet serviceIps, NftSet nodePorts,
                               NftSet affinity, NftSet hairpin, Nftables nft) throws java.io.IOException {
        List<Rule> rules = new ArrayList<>();
        Data zero = Data.hostU32(0);
        Data mark = Data.hostU32(0x4000);
        Data tcp = Data.protocol(6);
        // services
        add(nft, rules, Rule.of(services, Payload.ipDestination(REG_1), Meta.load(Meta.Key.L4PROTO, reg32(1)),
                Payload.transportDestinationPort(reg32(2)), Lookup.map(serviceIps, REG_1, Expression.VERDICT)));
        add(nft, rules, Rule.of(services, Fib.daddrType(REG_1), Cmp.eq(REG_1, Data.hostU32(Fib.RTN_LOCAL)),
                new Payload(Payload.Base.NETWORK, 16, 1, REG_1), Cmp.neq(REG_1, Data.of((byte) 127)),
                Meta.load(Meta.Key.L4PROTO, REG_1), Payload.transportDestinationPort(reg32(1)),
                Lookup.map(nodePorts, REG_1, Expression.VERDICT)).withComment("nodeports"));
        // filter-input
        add(nft, rules, Rule.of(input, Ct.load(Ct.Key.STATE, REG_1), Bitwise.and(REG_1, Data.hostU32(Ct.STATE_NEW)),
                Cmp.neq(REG_1, zero), Immediate.verdict(Verdict.jump(a.name()))));
        add(nft, rules, Rule.of(input, Payload.ipDestination(REG_1), Lookup.in(clusterIps, REG_1, false),
                Reject.PORT_UNREACHABLE));
        NftSet ranges = nft.addSet(NftSet.anonymous(t, List.of(IPV4_ADDR), List.of(), true), List.of(
                Element.intervalEnd(ip("0.0.0.0")), Element.of(ip("10.0.0.0")), Element.intervalEnd(ip("11.0.0.0")),
                Element.of(ip("192.168.0.0")), Element.intervalEnd(ip("192.169.0.0"))));
        add(nft, rules, Rule.of(input, Payload.ipSource(REG_1), Lookup.in(ranges, REG_1, true), Immediate.verdict(Verdict.DROP)));
        add(nft, rules, Rule.of(input, Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, tcp), Reject.TCP_RESET));
        // masquerading
        add(nft, rules, Rule.of(masquerading, Meta.load(Meta.Key.MARK, REG_1), Bitwise.and(REG_1, mark), Cmp.eq(REG_1, zero),
                Immediate.verdict(Verdict.RETURN)));
        add(nft, rules, Rule.of(masquerading, Meta.load(Meta.Key.MARK, REG_1), Bitwise.xor(REG_1, mark),
                Meta.set(Meta.Key.MARK, REG_1)));
        add(nft, rules, Rule.of(masquerading, Masq.FULLY_RANDOM));
        add(nft, rules, Rule.of(masquerading, Ct.load(Ct.Key.STATUS, REG_1), Bitwise.and(REG_1, Data.hostU32(Ct.STATUS_DNAT)),
                Cmp.neq(REG_1, zero), Payload.ipSource(REG_1), Payload.ipDestination(reg32(1)),
                Meta.load(Meta.Key.L4PROTO, reg32(2)), Payload.transportDestinationPort(reg32(3)),
                Lookup.in(hairpin, REG_1, false), Masq.FULLY_RANDOM));
        // svc
        add(nft, rules, Rule.of(svc, Payload.ipDestination(REG_1), Cmp.eq(REG_1, ip("172.30.0.41")),
                Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, tcp), Payload.transportDestinationPort(REG_1),
                Cmp.eq(REG_1, Data.port(80)), new Payload(Payload.Base.NETWORK, 12, 1, REG_1),
                Cmp.neq(REG_1, Data.of((byte) 10)), Meta.load(Meta.Key.MARK, REG_1), Bitwise.or(REG_1, mark),
                Meta.set(Meta.Key.MARK, REG_1)));
        add(nft, rules, Rule.of(svc, Payload.ipSource(REG_1), Lookup.in(affinity, REG_1, false),
                Immediate.verdict(Verdict.goTo(a.name()))));
        NftSet dispatch = nft.addSet(NftSet.anonymous(t, List.of(INTEGER), List.of(DataType.VERDICT), false), List.of(
                Element.of(Data.hostU32(0), Verdict.goTo(a.name())), Element.of(Data.hostU32(1), Verdict.goTo(b.name()))));
        add(nft, rules, Rule.of(svc, Numgen.random(REG_1, 2), Lookup.map(dispatch, REG_1, Expression.VERDICT)));
        add(nft, rules, Rule.of(svc, Counter.ZERO));
        // ep
        add(nft, rules, Rule.of(ep, Payload.ipSource(REG_1), Dynset.update(affinity, REG_1)));
        add(nft, rules, Rule.of(ep, Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, tcp),
                Immediate.value(REG_1, ip("10.180.0.1")), Immediate.value(REG_2, Data.port(80)),
                Nat.dnat(TableFamily.IPV4, REG_1, REG_2)));
        NftSet endpoints = nft.addSet(NftSet.anonymous(t, List.of(INTEGER), List.of(IPV4_ADDR, INET_SERVICE), false),
                List.of(Element.of(Data.hostU32(0), Data.concat(ip("10.180.0.1"), Data.port(80))),
                        Element.of(Data.hostU32(1), Data.concat(ip("10.180.0.2"), Data.port(8080)))));
        add(nft, rules, Rule.of(ep, Meta.load(Meta.Key.L4PROTO, REG_1), Cmp.eq(REG_1, tcp), Numgen.random(REG_1, 2),
                Lookup.map(endpoints, REG_1, REG_1),
                new Nat(Nat.Type.DNAT, TableFamily.IPV4.number(), REG_1, 0, reg32(1), 0, 0)));
        add(nft, rules, Rule.of(ep, Immediate.verdict(Verdict.RETURN)));
        // fw
        byte[] eth0 = new byte[16];
        System.arraycopy("eth0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, eth0, 0, 4);
        add(nft, rules, Rule.of(fw, Meta.load(Meta.Key.IIFNAME, REG_1), Cmp.eq(REG_1, Data.of(eth0)),
                Immediate.verdict(Verdict.ACCEPT)));
        add(nft, rules, Rule.of(fw, Immediate.verdict(Verdict.CONTINUE)));
        return rules;
    }

    private static void add(Nftables nft, List<Rule> rules, Rule rule) {
        nft.addRule(rule);
        rules.add(rule);
    }
}
