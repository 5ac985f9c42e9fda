package dev.ferry.userspace;

import dev.ferry.mode.FlagText;

import java.util.Objects;

/**
 * The host ports listeners may take, as {@code --proxy-port-range} gives them: "begin-end",
 * "begin+offset" or a single port, inclusive; "", "0" and "0-0" mean none, so the kernel picks
 * an ephemeral port for each listener (upstream's default).
 */
record PortRange(int first, int last) implements FlagText {

    /** No range: every listener binds port 0. */
    static final PortRange EPHEMERAL = new PortRange(0, 0);

    PortRange {
        if (first < 0 || last > 65535 || first > last) {
            throw new IllegalArgumentException("port range " + first + "-" + last + " is not within 0-65535 with begin <= end");
        }
        if (first == 0 && last != 0) {
            throw new IllegalArgumentException("port range " + first + "-" + last + " includes port 0");
        }
    }

    static PortRange parse(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.strip();
        if (t.isEmpty()) {
            return EPHEMERAL;
        }
        int dash = t.indexOf('-');
        int plus = t.indexOf('+');
        try {
            if (dash > 0) {
                return new PortRange(port(t.substring(0, dash)), port(t.substring(dash + 1)));
            }
            if (plus > 0) {
                int begin = port(t.substring(0, plus));
                int offset = port(t.substring(plus + 1));
                return new PortRange(begin, begin + offset);
            }
            int single = port(t);
            return new PortRange(single, single);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a port range (begin-end, begin+offset or a port): "
                    + e.getMessage());
        }
    }

    private static int port(String s) {
        if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("\"" + s + "\" is not a number 0..65535");
        }
        return Integer.parseInt(s);
    }

    boolean ephemeral() {
        return first == 0;
    }

    int size() {
        return ephemeral() ? 0 : last - first + 1;
    }

    /** The {@code i}-th port of the range, wrapping around. */
    int port(long i) {
        return first + (int) Math.floorMod(i, (long) size());
    }

    /** As --proxy-port-range takes it: "" for ephemeral, else "first-last". */
    @Override
    public String flagText() {
        return ephemeral() ? "" : first + "-" + last;
    }

    @Override
    public String toString() {
        return ephemeral() ? "ephemeral" : first == last ? Integer.toString(first) : first + "-" + last;
    }
}
