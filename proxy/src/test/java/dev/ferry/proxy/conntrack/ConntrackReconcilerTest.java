package dev.ferry.proxy.conntrack;

import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelection;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import dev.ferry.nativeio.ctnetlink.ConntrackTuple;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The glue: dump once, decide, delete, count, never throw (a fake table; the kernel is in ConntrackUdpTest). */
class ConntrackReconcilerTest {

    static final ServicePortName DNS = new ServicePortName("kube-system", "dns", "dns", Protocol.UDP);
    static final String CLUSTER_IP = "10.96.0.10";
    static final String CLIENT = "10.0.0.5";

    /** A conntrack table in memory. */
    static final class FakeTable implements FlowTable {
        final List<ConntrackFlow> flows = new ArrayList<>();
        IOException dumpFailure;
        IOException deleteFailure;
        int dumps;
        int deletes;

        @Override
        public boolean dump(AddressFamily family, Consumer<ConntrackFlow> each) throws IOException {
            dumps++;
            if (dumpFailure != null) {
                throw dumpFailure;
            }
            List.copyOf(flows).stream().filter(f -> f.family() == family).forEach(each);
            return true;
        }

        @Override
        public boolean delete(ConntrackFlow flow) throws IOException {
            deletes++;
            if (deleteFailure != null) {
                throw deleteFailure;
            }
            return flows.remove(flow);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void deletesFlowsToAGoneEndpointAndCountsThem() {
        FakeTable table = new FakeTable();
        ConntrackFlow toGone = flow(CLUSTER_IP, 53, "10.244.1.9", 5353, 40001);
        ConntrackFlow toServing = flow(CLUSTER_IP, 53, "10.244.2.2", 5353, 40002);
        ConntrackFlow unrelated = flow("10.0.0.9", 53, "10.0.0.9", 53, 40003);
        table.flows.addAll(List.of(toGone, toServing, unrelated));
        ConntrackReconciler r = new ConntrackReconciler(table, () -> a -> false);

        r.reconcile(IpFamily.IPV4, snapshot(port(CLUSTER_IP), "10.244.2.2"));

        assertEquals(List.of(toServing, unrelated), table.flows);
        assertEquals(1, r.deletedEntries(IpFamily.IPV4));
        assertEquals(1, r.runs(IpFamily.IPV4));
        assertEquals(0, r.errors(IpFamily.IPV4));
        assertEquals(0, r.runs(IpFamily.IPV6));
        assertTrue(r.durationSecondsTotal(IpFamily.IPV4) > 0);
    }

    @Test
    void withoutUdpServicePortsTheTableIsNotEvenRead() {
        FakeTable table = new FakeTable();
        ConntrackReconciler r = new ConntrackReconciler(table, () -> a -> false);
        r.reconcile(IpFamily.IPV4, snapshot(null));
        assertEquals(0, table.dumps);
        assertEquals(1, r.runs(IpFamily.IPV4));
    }

    @Test
    void aServiceRemovedSinceTheLastRunLosesItsFlows() {
        FakeTable table = new FakeTable();
        ConntrackReconciler r = new ConntrackReconciler(table, () -> a -> false);
        r.reconcile(IpFamily.IPV4, snapshot(port(CLUSTER_IP), "10.244.2.2"));
        ConntrackFlow toRemovedService = flow(CLUSTER_IP, 53, "10.244.2.2", 5353, 40004);
        table.flows.add(toRemovedService);

        // Another UDP Service keeps the dump going; dns is gone.
        ServicePort other = ServicePort.clusterIP(new ServicePortName("default", "syslog", "", Protocol.UDP),
                IpAddresses.parse("10.96.0.20"), 514);
        r.reconcile(IpFamily.IPV4, snapshot(other, "10.244.3.3"));

        assertTrue(table.flows.isEmpty(), table.flows.toString());
        assertEquals(1, r.deletedEntries(IpFamily.IPV4));
    }

    @Test
    void failuresAreCountedAndLoggedNeverThrown() {
        FakeTable table = new FakeTable();
        table.dumpFailure = new IOException("dump conntrack table (INET): boom");
        ConntrackReconciler r = new ConntrackReconciler(table, () -> a -> false);

        r.reconcile(IpFamily.IPV4, snapshot(port(CLUSTER_IP), "10.244.2.2"));
        assertEquals(1, r.errors(IpFamily.IPV4));

        table.dumpFailure = null;
        table.deleteFailure = new NetlinkException("delete conntrack flow x", 1, null);
        table.flows.add(flow(CLUSTER_IP, 53, "10.244.1.9", 5353, 40001));
        r.reconcile(IpFamily.IPV4, snapshot(port(CLUSTER_IP), "10.244.2.2"));
        assertEquals(2, r.errors(IpFamily.IPV4));
        assertEquals(0, r.deletedEntries(IpFamily.IPV4));
        assertEquals(2, r.runs(IpFamily.IPV4));

        table.deleteFailure = null;
        r.reconcile(IpFamily.IPV4, snapshot(port(CLUSTER_IP), "10.244.2.2"));
        assertEquals(1, r.deletedEntries(IpFamily.IPV4), "retried on the next run");
    }

    @Test
    void nodePortFlowsUseTheLocalAddressesGiven() {
        FakeTable table = new FakeTable();
        ServicePort withNodePort = new ServicePort(DNS, List.of(IpAddresses.parse(CLUSTER_IP)), 53, 30053,
                List.of(), List.of(), List.of(), 0, false, false, 0, "");
        ConntrackFlow toThisNode = flow("192.168.1.10", 30053, "10.244.1.9", 5353, 40005);
        ConntrackFlow toOtherNode = flow("192.168.1.11", 30053, "192.168.1.11", 30053, 40006);
        table.flows.addAll(List.of(toThisNode, toOtherNode));
        ConntrackReconciler r = new ConntrackReconciler(table,
                () -> HostAddresses.of(Set.of(IpAddresses.parse("192.168.1.10"))));

        r.reconcile(IpFamily.IPV4, snapshot(withNodePort, "10.244.2.2"));

        assertEquals(List.of(toOtherNode), table.flows);
    }

    static ServicePort port(String clusterIP) {
        return ServicePort.clusterIP(DNS, IpAddresses.parse(clusterIP), 53);
    }

    static ProxySnapshot snapshot(ServicePort port, String... endpoints) {
        TreeMap<ServicePortName, ServicePortState> ports = new TreeMap<>(ProxySnapshot.ORDER);
        if (port != null) {
            List<Endpoint> eps = new ArrayList<>();
            for (String ip : endpoints) {
                eps.add(Endpoint.ready(IpAddresses.parse(ip), 5353));
            }
            ports.put(port.name(), new ServicePortState(port, eps, EndpointSelection.NONE, EndpointSelection.NONE));
        }
        return new ProxySnapshot(1, new NodeInfo("node", Map.of()), ports, Set.of(), false);
    }

    static ConntrackFlow flow(String origDst, int origDport, String replySrc, int replySport, int clientPort) {
        InetAddress client = IpAddresses.parse(CLIENT);
        ConntrackTuple original = new ConntrackTuple(client, IpAddresses.parse(origDst), 17, clientPort, origDport);
        ConntrackTuple reply = new ConntrackTuple(IpAddresses.parse(replySrc), client, 17, replySport, clientPort);
        return new ConntrackFlow(AddressFamily.INET, original, reply, clientPort, 0, 0, 30, 0);
    }
}
