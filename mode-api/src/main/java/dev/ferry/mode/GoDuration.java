package dev.ferry.mode;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations in Go's syntax (time.ParseDuration), as upstream's flags take them: a sequence of
 * decimal numbers, each with an optional fraction and a unit ("ns", "us", "µs", "ms", "s", "m",
 * "h"), e.g. "1s", "500ms", "1m30s", "1.5h"; a lone "0" needs no unit. Negative values are
 * refused: no flag of ours means anything by them.
 */
public final class GoDuration {

    private GoDuration() {
    }

    /** @throws IllegalArgumentException saying what is wrong with {@code text} */
    public static Duration parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        String s = text;
        if (s.startsWith("+")) {
            s = s.substring(1);
        } else if (s.startsWith("-")) {
            throw new IllegalArgumentException("\"" + text + "\" is negative");
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException(invalid(text));
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            String unit = s.substring(unitStart, i);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                throw new IllegalArgumentException(invalid(text));
            }
            if (unit.isEmpty()) {
                throw new IllegalArgumentException("\"" + text + "\" is missing a unit (ns, us, ms, s, m, h)");
            }
            long unitNanos = unitNanos(unit, text);
            nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos)));
        }
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("\"" + text + "\" is too large");
        }
        return Duration.ofNanos(nanos.longValue());
    }

    /** Go's String() form for common values: "30s", "1m0s", "500ms", "0s". */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            long ns = d.toNanos();
            if (ns % 1_000_000 == 0) {
                return ns / 1_000_000 + "ms";
            }
            if (ns % 1_000 == 0) {
                return ns / 1_000 + "µs";
            }
            return ns + "ns";
        }
        StringBuilder b = new StringBuilder();
        long h = d.toHours();
        long m = d.toMinutesPart();
        if (h > 0) {
            b.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            b.append(m).append('m');
        }
        BigDecimal secs = BigDecimal.valueOf(d.toSecondsPart()).add(BigDecimal.valueOf(d.toNanosPart(), 9));
        b.append(secs.stripTrailingZeros().toPlainString()).append('s');
        return b.toString();
    }

    private static long unitNanos(String unit, String text) {
        switch (unit) {
            case "ns":
                return 1L;
            case "us":
            case "µs":
            case "μs":
                return 1_000L;
            case "ms":
                return 1_000_000L;
            case "s":
                return 1_000_000_000L;
            case "m":
                return 60_000_000_000L;
            case "h":
                return 3_600_000_000_000L;
            default:
                throw new IllegalArgumentException("\"" + text + "\" has an unknown unit \"" + unit + "\" (ns, us, ms, s, m, h)");
        }
    }

    private static String invalid(String text) {
        return "\"" + text + "\" is not a duration (e.g. 1s, 500ms, 1m30s)";
    }
}
