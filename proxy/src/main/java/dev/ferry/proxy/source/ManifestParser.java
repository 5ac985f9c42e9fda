package dev.ferry.proxy.source;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns one manifest file into the objects the proxy reads: v1 Service, discovery.k8s.io/v1
 * EndpointSlice and v1 Node, from YAML (several documents allowed) or JSON, with {@code kind: List}
 * (and typed lists such as ServiceList) unpacked. Problems are reported through
 * {@link InputProblems} with the file: a syntax error (with line and column) fails the whole
 * file; a document of another kind, without a name, or with a field of the wrong type is
 * skipped and the rest of the file is used.
 *
 * <p>Not thread-safe only in the sense that it has no state; the mappers are thread-safe.
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

    /** What a file gave: its objects, or a syntax error (then {@code objects} is empty). */
    record Result(List<Parsed> objects, boolean syntaxError) {
    }

    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Service", Service.class,
            "discovery.k8s.io/v1/EndpointSlice", EndpointSlice.class,
            "v1/Node", Node.class);

    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    private final ObjectMapper json = new ObjectMapper();
    private final KubernetesSerialization serialization = new KubernetesSerialization();
    private final InputProblems problems;

    ManifestParser(InputProblems problems) {
        this.problems = problems;
    }

    /** @param file the name reports carry (the path as the operator gave it) */
    Result parse(String file, byte[] content) {
        ObjectMapper mapper = file.endsWith(".json") ? json : yaml;
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> it = mapper.readerFor(JsonNode.class).readValues(content)) {
            while (it.hasNextValue()) {
                documents.add(it.nextValue());
            }
        } catch (JsonProcessingException e) {
            problems.reportInput(file + where(e.getLocation()), null, "cannot parse: " + oneLine(e.getOriginalMessage()));
            return new Result(List.of(), true);
        } catch (IOException | RuntimeException e) {
            problems.reportInput(file, null, "cannot parse: " + e.getMessage());
            return new Result(List.of(), true);
        }
        List<Parsed> out = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            addDocument(file, "document " + (i + 1), documents.get(i), null, null, out);
        }
        return new Result(out, false);
    }

    private void addDocument(String file, String where, JsonNode doc, String defaultApiVersion, String defaultKind,
                             List<Parsed> out) {
        if (doc == null || doc.isNull() || doc.isMissingNode() || (doc.isObject() && doc.isEmpty())) {
            return; // an empty document, e.g. after a trailing "---"
        }
        if (!doc.isObject()) {
            problems.reportInput(file, where, "not an object; ignored");
            return;
        }
        String apiVersion = text(doc, "apiVersion", defaultApiVersion);
        String kind = text(doc, "kind", defaultKind);
        if (kind == null) {
            problems.reportInput(file, where, "kind: missing; ignored");
            return;
        }
        if (kind.endsWith("List") && doc.has("items")) {
            JsonNode items = doc.get("items");
            if (!items.isArray()) {
                problems.reportInput(file, where + " (" + kind + ")", "items: not a list; ignored");
                return;
            }
            String itemKind = kind.equals("List") ? null : kind.substring(0, kind.length() - "List".length());
            String itemApiVersion = kind.equals("List") ? null : apiVersion;
            for (int j = 0; j < items.size(); j++) {
                addDocument(file, where + " item " + (j + 1), items.get(j), itemApiVersion, itemKind, out);
            }
            return;
        }
        String name = doc.path("metadata").path("name").asText("");
        String described = where + " (" + kind + (name.isEmpty() ? "" : " " + name) + ")";
        Class<? extends HasMetadata> type = KINDS.get(apiVersion + "/" + kind);
        if (type == null) {
            problems.reportInput(file, described, "apiVersion " + apiVersion + " kind " + kind
                    + " is not read here (only v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node); ignored");
            return;
        }
        if (name.isEmpty()) {
            problems.reportInput(file, described, "metadata.name: missing; ignored");
            return;
        }
        HasMetadata object;
        try {
            object = serialization.convertValue(doc, type);
        } catch (RuntimeException e) {
            problems.reportInput(file, described, "does not match the " + kind + " schema: " + rootMessage(e) + "; ignored");
            return;
        }
        String namespace = null;
        if (type != Node.class) {
            namespace = object.getMetadata().getNamespace();
            if (namespace == null || namespace.isEmpty()) {
                namespace = "default"; // as kubectl apply would place it
                object.getMetadata().setNamespace(namespace);
            }
        }
        out.add(new Parsed(new Key(kind, namespace, name), object));
    }

    private static String text(JsonNode doc, String field, String fallback) {
        JsonNode n = doc.get(field);
        return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : fallback;
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

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t instanceof JsonProcessingException ? ((JsonProcessingException) t).getOriginalMessage() : t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.replace('\n', ' ');
    }
}
