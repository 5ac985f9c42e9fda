package dev.ferry.iptables;

import dev.ferry.netfilter.CommandRunner;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * An iptables-restore input held as the rule writer's buffers, written to the program's
 * standard input chunk by chunk: a large cluster's payload is tens of megabytes, and joining
 * it into one String and then one byte array would copy it twice.
 */
final class Payload implements CommandRunner.Input {

    private static final int CHUNK = 64 * 1024;

    private final List<CharSequence> parts = new ArrayList<>();

    Payload add(CharSequence part) {
        parts.add(part);
        return this;
    }

    /** Nothing to restore: iptables-restore would accept it, but need not run. */
    boolean isEmpty() {
        for (CharSequence p : parts) {
            if (p.length() > 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        char[] chars = new char[CHUNK];
        byte[] bytes = new byte[CHUNK * 3];
        for (CharSequence part : parts) {
            int length = part.length();
            for (int from = 0; from < length; from += CHUNK) {
                int to = Math.min(length, from + CHUNK);
                int n = to - from;
                if (part instanceof StringBuilder sb) {
                    sb.getChars(from, to, chars, 0);
                } else if (part instanceof String s) {
                    s.getChars(from, to, chars, 0);
                } else {
                    for (int i = 0; i < n; i++) {
                        chars[i] = part.charAt(from + i);
                    }
                }
                out.write(bytes, 0, encode(chars, n, bytes));
            }
        }
        out.flush();
    }

    /** UTF-8 (rules are ASCII after sanitising, so this is nearly always one byte a char). */
    private static int encode(char[] chars, int n, byte[] bytes) {
        int j = 0;
        for (int i = 0; i < n; i++) {
            char c = chars[i];
            if (c < 0x80) {
                bytes[j++] = (byte) c;
            } else if (c < 0x800) {
                bytes[j++] = (byte) (0xc0 | (c >> 6));
                bytes[j++] = (byte) (0x80 | (c & 0x3f));
            } else if (Character.isSurrogate(c)) {
                bytes[j++] = '?'; // cannot happen: comments are sanitised to ASCII
            } else {
                bytes[j++] = (byte) (0xe0 | (c >> 12));
                bytes[j++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                bytes[j++] = (byte) (0x80 | (c & 0x3f));
            }
        }
        return j;
    }

    /** The whole text; only for error reports and tests (it copies). */
    @Override
    public String toString() {
        int size = 0;
        for (CharSequence p : parts) {
            size += p.length();
        }
        StringBuilder sb = new StringBuilder(size);
        parts.forEach(sb::append);
        return sb.toString();
    }
}
