package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The live node as the inspection tools read it: what every mode's view reads ({@link LiveNode}),
 * plus the conntrack table and the running proxy's answer. {@link KernelNode} reads the real
 * kernel; unit tests pass a fake.
 */
interface NodeState extends LiveNode {

    /** Every conntrack flow of a family. */
    List<ConntrackFlow> conntrack(IpFamily family) throws IOException;

    /** The running proxy's answer on http://127.0.0.1:10249/proxyMode, if one answers. */
    Optional<String> proxyModeEndpoint();
}
