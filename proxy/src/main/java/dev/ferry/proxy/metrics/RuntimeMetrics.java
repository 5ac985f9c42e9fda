package dev.ferry.proxy.metrics;

import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryPoolAllocationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The process's own series, from Prometheus' JVM instrumentation: {@code process_*} (CPU, resident
 * and virtual memory, open file descriptors, start time: what upstream's Go binary serves under the
 * same names) and {@code jvm_*} (heap and non-heap pools, buffer pools such as Netty's direct
 * memory, GC, threads, classes, JIT, runtime info). Read at scrape time from the JVM's MXBeans and
 * /proc/self.
 *
 * <p>Everything of {@code JvmMetrics.builder()} but its native-memory series: those need
 * -XX:NativeMemoryTracking (off in production) and would start the platform MBean server to find out.
 */
final class RuntimeMetrics {

    private RuntimeMetrics() {
    }

    static void register(PrometheusRegistry registry) {
        ProcessMetrics.builder().register(registry);
        JvmMemoryMetrics.builder().register(registry);
        JvmMemoryPoolAllocationMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        JvmThreadsMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
    }
}
