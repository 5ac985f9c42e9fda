package dev.ferry.mode.inspect;

import java.util.Locale;

/** How a probability is shown to an operator: a percentage, and the fraction when it is a simple one. */
public final class Probabilities {

    private Probabilities() {
    }

    /** "33.33% (1/3)", "100%", "12.34%". */
    public static String format(double p) {
        if (Math.abs(p - 1.0) < 1e-9) {
            return "100%";
        }
        String percent = String.format(Locale.ROOT, "%.2f%%", p * 100);
        for (int d = 2; d <= 64; d++) {
            long n = Math.round(p * d);
            // iptables prints probabilities with 10 decimals: products of them are exact to ~1e-9
            if (n > 0 && Math.abs(p * d - n) < 1e-6) {
                return percent + " (" + n + "/" + d + ")";
            }
        }
        return percent;
    }
}
