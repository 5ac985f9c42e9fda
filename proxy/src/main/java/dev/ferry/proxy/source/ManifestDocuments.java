package dev.ferry.proxy.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one file's documents become, as {@link ManifestParser} reads them: each document or
 * list item is bound to its type (Service, EndpointSlice, Node) or becomes a problem naming the
 * file, the object and the field. Problems are collected, not reported, so the parser can drop
 * them when the file turns out not to parse.
 *
 * <p>A list's items usually carry their own apiVersion and kind ({@code kubectl get -o yaml}
 * prints {@code kind: List} after its items), so such an item is bound as soon as it is read.
 * An item without them (a typed list such as ServiceList) waits, as a tree, until the list's
 * kind is known. Used by one parse on one thread.
 */
final class ManifestDocuments {

    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Service", Service.class,
            "discovery.k8s.io/v1/EndpointSlice", EndpointSlice.class,
            "v1/Node", Node.class);

    /** What one document or item gave: an object, a problem, or nothing (an empty document). */
    private record Outcome(ManifestParser.Parsed parsed, InputProblems.Problem problem, boolean otherKind) {
        static final Outcome NOTHING = new Outcome(null, null, false);
    }

    /** An item that waits for its list's kind. */
    private record Deferred(String where, JsonNode tree) {
    }

    private final String file;
    private final ObjectMapper mapper;
    private final List<ManifestParser.Parsed> objects = new ArrayList<>();
    private final List<InputProblems.Problem> problems = new ArrayList<>();
    private int rejected;
    private int ignored;

    ManifestDocuments(String file, ObjectMapper mapper) {
        this.file = file;
        this.mapper = mapper;
    }

    /** The items of one document, bound as they come when they can be. */
    final class Items {
        private final List<Object> slots = new ArrayList<>(); // Outcome or Deferred, in file order

        void add(String where, JsonNode item) {
            boolean typed = text(item, "apiVersion", null) != null && text(item, "kind", null) != null;
            slots.add(typed ? bind(where, item, null, null) : new Deferred(where, item));
        }
    }

    Items items() {
        return new Items();
    }

    void notAnObject(String where) {
        add(rejected(where, "not an object; ignored"));
    }

    /**
     * A document has ended: {@code fields} are its fields but {@code items}, which were read
     * on the way (null when it had no list of them).
     */
    void document(String where, JsonNode fields, Items items) {
        String kind = text(fields, "kind", null);
        if (items != null && kind != null && kind.endsWith("List")) {
            String itemKind = kind.equals("List") ? null : kind.substring(0, kind.length() - "List".length());
            String itemApiVersion = kind.equals("List") ? null : text(fields, "apiVersion", null);
            for (Object slot : items.slots) {
                add(slot instanceof Deferred d ? bind(d.where(), d.tree(), itemApiVersion, itemKind) : (Outcome) slot);
            }
            return;
        }
        if (kind != null && kind.endsWith("List") && fields.has("items")) {
            add(rejected(where + " (" + kind + ")", "items: not a list; ignored"));
            return;
        }
        // Not a list: no kind read here has a field "items", so the items read on the way do not matter.
        add(bind(where, fields, null, null));
    }

    ManifestParser.Result result() {
        return new ManifestParser.Result(List.copyOf(objects), false, rejected, ignored);
    }

    List<InputProblems.Problem> problems() {
        return problems;
    }

    private void add(Outcome outcome) {
        if (outcome.parsed() != null) {
            objects.add(outcome.parsed());
        } else if (outcome.problem() != null) {
            problems.add(outcome.problem());
            if (outcome.otherKind()) {
                ignored++;
            } else {
                rejected++;
            }
        }
    }

    private Outcome bind(String where, JsonNode doc, String defaultApiVersion, String defaultKind) {
        if (doc == null || doc.isNull() || doc.isMissingNode() || (doc.isObject() && doc.isEmpty())) {
            return Outcome.NOTHING; // an empty document or item
        }
        if (!doc.isObject()) {
            return rejected(where, "not an object; ignored");
        }
        String apiVersion = text(doc, "apiVersion", defaultApiVersion);
        String kind = text(doc, "kind", defaultKind);
        if (kind == null) {
            return rejected(where, "kind: missing; ignored");
        }
        String name = doc.path("metadata").path("name").asText("");
        String described = where + " (" + kind + (name.isEmpty() ? "" : " " + name) + ")";
        Class<? extends HasMetadata> type = KINDS.get(apiVersion + "/" + kind);
        if (type == null) {
            return new Outcome(null, new InputProblems.Problem(file, described, null, "apiVersion " + apiVersion
                    + " kind " + kind + " is not read here (only v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node);"
                    + " ignored"), true);
        }
        if (name.isEmpty()) {
            return rejected(described, "metadata.name: missing; ignored");
        }
        String namespace = null;
        if (type != Node.class) {
            namespace = text(doc.path("metadata"), "namespace", "default"); // as kubectl apply would place it
        }
        ManifestParser.Key key = new ManifestParser.Key(kind, namespace, name);
        HasMetadata object;
        try {
            object = mapper.treeToValue(doc, type);
        } catch (JsonMappingException e) {
            return new Outcome(null, new InputProblems.Problem(file, key.toString(), WrongType.path(e),
                    WrongType.describe(e, doc) + "; ignored"), false);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return new Outcome(null, new InputProblems.Problem(file, key.toString(), null,
                    "does not match the " + kind + " schema: " + String.valueOf(e.getMessage()).replace('\n', ' ')
                            + "; ignored"), false);
        }
        if (namespace != null) {
            object.getMetadata().setNamespace(namespace);
        }
        return new Outcome(new ManifestParser.Parsed(key, object), null, false);
    }

    private Outcome rejected(String where, String message) {
        return new Outcome(null, new InputProblems.Problem(file, where, null, message), false);
    }

    private static String text(JsonNode doc, String field, String fallback) {
        JsonNode n = doc.get(field);
        return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : fallback;
    }
}
