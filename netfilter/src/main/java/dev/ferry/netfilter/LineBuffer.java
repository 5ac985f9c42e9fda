package dev.ferry.netfilter;

/**
 * Lines of iptables-restore input, words joined by single spaces. Reused between syncs (reset,
 * not reallocated) because a large cluster writes hundreds of thousands of lines per sync.
 */
public final class LineBuffer {

    private final StringBuilder text = new StringBuilder(4096);
    private int lines;

    public void reset() {
        text.setLength(0);
        lines = 0;
    }

    /**
     * Empties the buffer and, once it has grown past {@code keepChars}, gives its memory back: a
     * full sync of a large cluster fills tens of megabytes that the partial syncs after it do not
     * need, and a proxy would otherwise hold them until the next full sync.
     */
    public void release(int keepChars) {
        reset();
        if (text.capacity() > keepChars) {
            text.trimToSize();
        }
    }

    /** Starts a line with its first word; finish it with {@link #end()}. */
    public LineBuffer start(String word) {
        text.append(word);
        return this;
    }

    public LineBuffer add(String word) {
        text.append(' ').append(word);
        return this;
    }

    public LineBuffer add(String a, String b) {
        text.append(' ').append(a).append(' ').append(b);
        return this;
    }

    /** The address part of an "ip:port" or "[ip]:port" word, without copying it first. */
    public LineBuffer addHostOf(String hostPort) {
        text.append(' ');
        if (hostPort.startsWith("[")) {
            text.append(hostPort, 1, hostPort.lastIndexOf(']'));
        } else {
            text.append(hostPort, 0, hostPort.lastIndexOf(':'));
        }
        return this;
    }

    /** Makes room for about this many characters up front (a big first sync, not doubling copies). */
    public void reserve(long chars) {
        int want = (int) Math.min(chars, Integer.MAX_VALUE - 16);
        if (want > text.capacity()) {
            text.ensureCapacity(want);
        }
    }

    public LineBuffer addInt(int value) {
        text.append(' ').append(value);
        return this;
    }

    public void end() {
        text.append('\n');
        lines++;
    }

    /** A whole line at once. */
    public void line(String... words) {
        for (int i = 0; i < words.length; i++) {
            if (i > 0) {
                text.append(' ');
            }
            text.append(words[i]);
        }
        end();
    }

    /** ":CHAIN - [0:0]", which in iptables-restore --noflush creates or flushes the chain. */
    public void chainLine(String chain) {
        text.append(':').append(chain).append(" - [0:0]");
        end();
    }

    /** Text of whole lines ("\n"-terminated) written elsewhere, e.g. a cached fragment. */
    public void append(String wholeLines, int count) {
        text.append(wholeLines);
        lines += count;
    }

    /** One whole line ("\n"-terminated) taken from {@code from} to {@code to} of another text. */
    public void append(CharSequence source, int from, int to) {
        text.append(source, from, to);
        lines++;
    }

    public int lines() {
        return lines;
    }

    public StringBuilder text() {
        return text;
    }
}
