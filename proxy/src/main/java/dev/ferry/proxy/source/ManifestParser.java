package dev.ferry.proxy.source;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import org.yaml.snakeyaml.LoaderOptions;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one manifest file into the objects the proxy reads: v1 Service, discovery.k8s.io/v1
 * EndpointSlice and v1 Node, from YAML (several documents allowed) or JSON, with {@code kind: List}
 * (and typed lists such as ServiceList) unpacked. Problems are reported through
 * {@link InputProblems} with the file: a syntax error (with line and column) fails the whole
 * file; a document of another kind, without a name, or with a field of the wrong type (named by
 * its path, e.g. {@code spec.ports[0].port}) is skipped and the rest of the file is used.
 *
 * <p>Streaming: the file is read as it is parsed, one document (or one item of a list) at a
 * time; each becomes a small tree, which is bound to its type and dropped. Neither the file nor
 * all its trees are ever held whole, so a 20 MB {@code kubectl get -o yaml} dump costs its
 * objects, not ten times its size. Problems are reported once the whole file parsed, so a file
 * with a syntax error reports only that.
 *
 * <p>Threads: the mappers are built once and are thread-safe; {@link #parse} keeps its state
 * on the stack.
 */
final class ManifestParser {

    /** Identifies an object across files: two files defining the same key conflict. */
    record Key(String kind, String namespace, String name) {
        @Override
        public String toString() {
            return namespace == null ? kind + " " + name : kind + " " + namespace + "/" + name;
        }
    }

    record Parsed(Key key, HasMetadata object) {
    }

    /**
     * What a file gave: its objects (none after a syntax error), and of the objects it held how
     * many were rejected (reported and skipped) and how many were of kinds not read here.
     */
    record Result(List<Parsed> objects, boolean syntaxError, int rejected, int ignored) {
        /** Every object the file held: the ones passed on, rejected or ignored. */
        int read() {
            return objects.size() + rejected + ignored;
        }
    }

    private final ObjectMapper yaml = mapper(YAMLFactory.builder().loaderOptions(unlimited()).build());
    private final ObjectMapper json = mapper(new JsonFactory());
    private final InputProblems problems;

    ManifestParser(InputProblems problems) {
        this.problems = problems;
    }

    /**
     * A plain mapper: fabric8's model classes carry their own Jackson annotations (unknown fields
     * land in additionalProperties). Not fabric8's configuration, whose integer reader takes
     * {@code "80"} for 80: the API server refuses {@code port: "80"} and {@code port: 80.5}, and
     * so does this, as it refuses {@code ready: "true"}.
     */
    private static ObjectMapper mapper(JsonFactory factory) {
        ObjectMapper mapper = new ObjectMapper(factory);
        mapper.coercionConfigFor(LogicalType.Integer)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        return mapper;
    }

    /**
     * SnakeYAML refuses a document over 3 MB code points by default; one {@code kind: List} of a
     * big cluster is larger, and streaming bounds what a document costs anyway.
     */
    private static LoaderOptions unlimited() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(Integer.MAX_VALUE);
        return options;
    }

    /**
     * @param file    the name reports carry (the path as the operator gave it)
     * @param content the file's bytes, read as they are parsed (not closed here)
     */
    Result parse(String file, InputStream content) {
        ObjectMapper mapper = file.endsWith(".json") ? json : yaml;
        ManifestDocuments documents = new ManifestDocuments(file, mapper);
        try (JsonParser parser = mapper.createParser(content)) {
            parser.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
            int n = 0;
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                n++;
                readDocument(parser, mapper, token, "document " + n, documents);
            }
        } catch (JsonProcessingException e) {
            problems.reportInput(file + where(e.getLocation()), null, "cannot parse: " + oneLine(e.getOriginalMessage()));
            return new Result(List.of(), true, 0, 0);
        } catch (IOException | RuntimeException e) {
            problems.reportInput(file, null, "cannot parse: " + e.getMessage());
            return new Result(List.of(), true, 0, 0);
        }
        documents.problems().forEach(problems::reportInput);
        return documents.result();
    }

    /**
     * One top-level value. A mapping is read field by field; the elements of its {@code items}
     * (a list's objects) are handed on one at a time as they are read, the other fields kept
     * as a small tree until the document ends and its kind is known.
     */
    private static void readDocument(JsonParser parser, ObjectMapper mapper, JsonToken token, String where,
                                     ManifestDocuments documents) throws IOException {
        if (token != JsonToken.START_OBJECT) {
            if (token != JsonToken.VALUE_NULL && !(token == JsonToken.VALUE_STRING && parser.getText().isEmpty())) {
                documents.notAnObject(where);
            }
            parser.skipChildren();
            return; // null or "": an empty document, e.g. after a trailing "---"
        }
        ObjectNode header = mapper.createObjectNode();
        ManifestDocuments.Items items = null;
        for (JsonToken t = parser.nextToken(); t == JsonToken.FIELD_NAME; t = parser.nextToken()) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (field.equals("items") && value == JsonToken.START_ARRAY && items == null) {
                items = documents.items();
                int j = 0;
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    j++;
                    items.add(where + " item " + j, mapper.readTree(parser));
                }
            } else {
                header.set(field, mapper.readTree(parser));
            }
        }
        documents.document(where, header, items);
    }

    private static String where(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return ":" + location.getLineNr() + ":" + location.getColumnNr();
    }

    /** SnakeYAML's messages quote the source with a caret on extra lines; the location is already given. */
    private static String oneLine(String message) {
        if (message == null) {
            return "syntax error";
        }
        StringBuilder b = new StringBuilder();
        for (String line : message.split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("in 'reader'") || t.equals("^") || line.startsWith(" ")) {
                continue;
            }
            b.append(b.length() == 0 ? "" : "; ").append(t);
        }
        return b.length() == 0 ? message.strip() : b.toString();
    }
}
