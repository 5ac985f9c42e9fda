package dev.ferry.proxy.inspect;

import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.proxy.modes.ProxyModes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The proxy mode whose rules the tools read, with that mode's view of the node. Given by
 * --proxy-mode, or detected on the live node: the running proxy's /proxyMode answer when it names
 * a mode of ours, else what is programmed, as each mode's view finds it (a mode's own objects
 * first, in registry order; then what several modes share, such as nat KUBE-SERVICES).
 */
final class ModeDetection {

    /** The mode, its view for one report, and how the mode was found (for the report's header). */
    record Detected(ProxyMode mode, ModeView view, String how) {
    }

    private ModeDetection() {
    }

    /** --proxy-mode given: that mode. */
    static Detected given(ProxyModes modes, String name, NodeState node) {
        ProxyMode mode = null;
        for (ProxyMode m : modes.all()) {
            if (m.name().equals(name)) {
                mode = m;
            }
        }
        if (mode == null) { // "" too: the tools read a node, they do not assume a mode
            throw new IllegalArgumentException("--proxy-mode: \"" + name + "\" is not one of " + modes.names());
        }
        return new Detected(mode, mode.view(node), "--proxy-mode");
    }

    /** @throws IOException when nothing on the node tells the mode (or what would have told it cannot be read) */
    static Detected detect(ProxyModes modes, NodeState node) throws IOException {
        Optional<String> served = node.proxyModeEndpoint();
        if (served.isPresent()) {
            for (ProxyMode m : modes.all()) {
                if (m.name().equals(served.get())) {
                    return new Detected(m, m.view(node), "the proxy's /proxyMode on 127.0.0.1:10249");
                }
            }
            // another answer (e.g. nftables from upstream): fall back to what is programmed
        }
        Detected fallback = null;
        IOException unreadable = null;
        List<String> lookedFor = new ArrayList<>();
        for (ProxyMode m : modes.all()) {
            ModeView view = m.view(node);
            lookedFor.add(view.lookedFor());
            Optional<ModeView.Evidence> evidence;
            try {
                evidence = view.detect();
            } catch (IOException e) {
                unreadable = unreadable == null ? e : unreadable;
                continue;
            }
            if (evidence.isEmpty()) {
                continue;
            }
            if (evidence.get().definite()) {
                return new Detected(m, view, evidence.get().how());
            }
            if (fallback == null) {
                fallback = new Detected(m, view, evidence.get().how());
            }
        }
        if (fallback != null) {
            return fallback;
        }
        if (unreadable != null) {
            throw unreadable;
        }
        throw new IOException("cannot tell the proxy mode: no proxy answers on 127.0.0.1:10249, "
                + String.join(", ", lookedFor) + "; give --proxy-mode");
    }
}
