package dev.ferry.proxy.conntrack;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;

import java.io.IOException;
import java.util.function.Consumer;

/** The conntrack table as the reconciler uses it: over ctnetlink in production, a fake in unit tests. */
interface FlowTable extends AutoCloseable {

    /** Streams every flow of {@code family}; false when the kernel flagged the dump inconsistent. */
    boolean dump(AddressFamily family, Consumer<ConntrackFlow> each) throws IOException;

    /** Deletes one flow; false when it was already gone. */
    boolean delete(ConntrackFlow flow) throws IOException;

    @Override
    void close();
}
