package dev.ferry.iptables;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/** The {@code statistic --probability} values of the endpoint choice, formatted as upstream's. */
final class Probability {

    private static final List<String> PROBABILITIES = new ArrayList<>();

    private Probability() {
    }

    /**
     * 1/n with ten decimals, rounded as Go's %0.10f rounds (half to even on the exact binary
     * value), e.g. n=2048 gives 0.0004882812, not ...813.
     */
    static String of(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be positive: " + n);
        }
        synchronized (PROBABILITIES) {
            while (PROBABILITIES.size() <= n) {
                int k = PROBABILITIES.size();
                PROBABILITIES.add(k == 0 ? "<bad value>"
                        : new BigDecimal(1.0 / k).setScale(10, RoundingMode.HALF_EVEN).toPlainString());
            }
            return PROBABILITIES.get(n);
        }
    }
}
