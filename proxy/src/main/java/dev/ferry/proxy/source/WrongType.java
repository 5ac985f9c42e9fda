package dev.ferry.proxy.source;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.fabric8.kubernetes.api.model.IntOrString;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Jackson's complaint about a field that does not fit its type, in an operator's words: the
 * field's path as kubectl names it ({@code spec.ports[0].port}) and what it should have held
 * next to what it held ({@code expected an integer, got "eighty"}).
 */
final class WrongType {

    private static final int MAX_VALUE_CHARS = 60;

    private WrongType() {
    }

    /** The path of the field Jackson stopped at, e.g. {@code spec.ports[0].port}; null when it names none. */
    static String path(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.length() == 0 ? null : b.toString();
    }

    /** "expected an integer, got "eighty"", or Jackson's own reason when it is not about a type. */
    static String describe(JsonMappingException e, JsonNode doc) {
        JsonNode value = at(doc, e.getPath());
        String got = value == null ? "" : ", got " + shown(value);
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "expected " + expected(m.getTargetType()) + got;
        }
        String reason = e.getOriginalMessage() == null ? "invalid value" : e.getOriginalMessage().replace('\n', ' ');
        return reason + got;
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == IntOrString.class) {
            return "an integer or a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list";
        }
        return Map.class.isAssignableFrom(type) ? "a map" : "an object";
    }

    /** The value at Jackson's path in the document, or null when the path does not lead to one. */
    private static JsonNode at(JsonNode doc, List<JsonMappingException.Reference> path) {
        JsonNode n = doc;
        for (JsonMappingException.Reference r : path) {
            if (n == null) {
                return null;
            }
            n = r.getFieldName() != null ? n.get(r.getFieldName()) : r.getIndex() >= 0 ? n.get(r.getIndex()) : n;
        }
        return n == doc ? null : n;
    }

    private static String shown(JsonNode value) {
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "a list";
        }
        String text = value.toString(); // JSON: a string quoted, control characters escaped
        return text.length() > MAX_VALUE_CHARS ? text.substring(0, MAX_VALUE_CHARS) + "..." : text;
    }
}
