package dev.ferry.core;

import java.util.regex.Pattern;

/**
 * Kubernetes name syntax. Names end up in rule comments and chain-name hashes, so anything the
 * API server would have rejected (quotes, spaces, newlines from a hand-written file) is refused
 * here rather than escaped later.
 */
final class Names {

    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private Names() {
    }

    /** Namespaces, Service names, port names: an RFC 1123 label of at most 63 characters. */
    static void checkLabel(String value, String field) {
        if (value.length() > 63 || !DNS1123_LABEL.matcher(value).matches()) {
            throw new ServiceConverter.InvalidField(field, "\"" + printable(value)
                    + "\" is not a valid name (lower-case letters, digits and '-', at most 63)");
        }
    }

    /** EndpointSlice and Node names: an RFC 1123 subdomain of at most 253 characters. */
    static void checkSubdomain(String value, String field) {
        if (value.length() > 253 || !DNS1123_SUBDOMAIN.matcher(value).matches()) {
            throw new ServiceConverter.InvalidField(field, "\"" + printable(value)
                    + "\" is not a valid name (lower-case letters, digits, '-' and '.', at most 253)");
        }
    }

    /** The value with control characters and quotes made visible, for error messages. */
    static String printable(String value) {
        StringBuilder sb = new StringBuilder(Math.min(value.length(), 80));
        for (int i = 0; i < value.length() && sb.length() < 80; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else {
                sb.append(c);
            }
        }
        return value.length() > 80 ? sb + "..." : sb.toString();
    }
}
