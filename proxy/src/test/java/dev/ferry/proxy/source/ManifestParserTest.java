package dev.ferry.proxy.source;

import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parser alone: what each file gives, and what it reports, naming the file, the object and the field. */
class ManifestParserTest {

    private final List<InputProblems.Problem> problems = new ArrayList<>();
    private final ManifestParser parser = new ManifestParser(new InputProblems(problems::add));

    private ManifestParser.Result parse(String file, String content) {
        return parser.parse(file, new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)));
    }

    private static String service(String name, String portsYaml) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: ns}\n"
                + "spec:\n  clusterIP: 10.96.0.1\n  ports: " + portsYaml + "\n";
    }

    private List<String> names(ManifestParser.Result r) {
        return r.objects().stream().map(p -> p.key().toString()).toList();
    }

    @Test
    void aWrongTypedFieldNamesTheFileTheObjectAndThePathAndTheRestIsRead() {
        ManifestParser.Result r = parse("m/a.yaml", service("good", "[{port: 80}]") + "---\n"
                + service("web", "[{name: http, port: eighty}]") + "---\n"
                + service("empty", "{}") + "---\n"
                + service("half", "[{port: 80.5}]") + "---\n"
                + service("quoted", "[{port: \"80\"}]"));
        assertEquals(List.of("Service ns/good"), names(r));
        assertEquals(List.of(
                "m/a.yaml: Service ns/web: spec.ports[0].port: expected an integer, got \"eighty\"; ignored",
                "m/a.yaml: Service ns/empty: spec.ports: expected a list, got an object; ignored",
                "m/a.yaml: Service ns/half: spec.ports[0].port: expected an integer, got 80.5; ignored",
                "m/a.yaml: Service ns/quoted: spec.ports[0].port: expected an integer, got \"80\"; ignored"),
                problems.stream().map(Object::toString).toList());
        assertEquals("spec.ports[0].port", problems.get(0).field());
        assertEquals("Service ns/web", problems.get(0).object());
        assertEquals(5, r.read());
        assertEquals(4, r.rejected());
        assertEquals(0, r.ignored());
    }

    @Test
    void jsonAndNestedFieldsToo() {
        parse("t.json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"t\"},"
                + "\"spec\":{\"ports\":[{\"port\":80},{\"port\":81,\"protocol\":[\"TCP\"]}]}}");
        parse("s.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1, namespace: ns}\n"
                + "addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  conditions: {ready: maybe}\n");
        parse("n.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: [a]}\n");
        assertEquals(List.of(
                "t.json: Service default/t: spec.ports[1].protocol: expected a string, got a list; ignored",
                "s.yaml: EndpointSlice ns/s-1: endpoints[0].conditions.ready: expected true or false, got \"maybe\"; ignored",
                "n.yaml: Node n1: metadata.labels: expected a map, got a list; ignored"),
                problems.stream().map(Object::toString).toList());
    }

    @Test
    void listsAreUnpackedWhereverTheirKindStands() {
        // kubectl get -o yaml prints "items" before "kind: List"; a typed list's items carry no kind
        ManifestParser.Result list = parse("l.yaml", "apiVersion: v1\nitems:\n"
                + "- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: ns}, spec: {clusterIP: 10.96.0.1}}\n"
                + "- {apiVersion: v1, kind: Service, metadata: {name: b, namespace: ns}, spec: {ports: {}}}\n"
                + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: ns}}\n"
                + "kind: List\nmetadata: {resourceVersion: \"\"}\n");
        assertEquals(List.of("Service ns/a"), names(list));
        assertEquals(List.of(1, 1, 3), List.of(list.rejected(), list.ignored(), list.read()));
        assertTrue(problems.get(0).toString().startsWith("l.yaml: Service ns/b: spec.ports: expected a list"), problems.toString());
        assertTrue(problems.get(1).toString().startsWith("l.yaml: document 1 item 3 (ConfigMap c)"), problems.toString());

        ManifestParser.Result typed = parse("t.yaml", "apiVersion: v1\nitems:\n- metadata: {name: x}\n  spec: {clusterIP: 10.96.0.2}\n"
                + "kind: ServiceList\n");
        assertEquals(List.of("Service default/x"), names(typed));
        assertTrue(typed.objects().get(0).object() instanceof Service);
    }

    @Test
    void bindsTheExamplesExactlyAsFabric8Does() throws Exception {
        KubernetesSerialization fabric8 = new KubernetesSerialization();
        try (Stream<Path> files = Files.list(Path.of("../examples/manifests"))) {
            for (Path f : files.sorted().toList()) {
                ManifestParser.Result ours = parser.parse(f.toString(), Files.newInputStream(f));
                Object theirs = fabric8.unmarshal(Files.newInputStream(f));
                List<?> expected = theirs instanceof List<?> l ? l
                        : theirs instanceof KubernetesResourceList<?> k ? k.getItems() : List.of(theirs);
                assertEquals(expected, ours.objects().stream().map(ManifestParser.Parsed::object).toList(), f.toString());
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void emptyDocumentsAreNothingAndScalarsAreNotObjects() {
        ManifestParser.Result r = parse("e.yaml", "---\n---\n# only a comment\n---\njust a string\n---\n");
        assertEquals(List.of(), r.objects());
        assertEquals(List.of("e.yaml: document 3: not an object; ignored"), problems.stream().map(Object::toString).toList());
        assertEquals(1, r.read());
    }

    @Test
    void aSyntaxErrorReportsOnlyItselfWithItsPlace() {
        ManifestParser.Result r = parse("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
                + "apiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: [\n");
        assertTrue(r.syntaxError());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().matches("b\\.yaml:\\d+:\\d+: cannot parse: .*"), problems.toString());
    }

    @Test
    void aListOverSnakeYamlsDefaultDocumentLimitIsRead() {
        StringBuilder b = new StringBuilder("apiVersion: v1\nkind: List\nitems:\n");
        int n = 0;
        while (b.length() < 4 * 1024 * 1024) { // SnakeYAML refuses documents over 3 MB by default
            b.append("- {apiVersion: v1, kind: Service, metadata: {name: s").append(n++)
                    .append(", namespace: ns}, spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}}\n");
        }
        ManifestParser.Result r = parse("big.yaml", b.toString());
        assertFalse(r.syntaxError(), problems.toString());
        assertEquals(n, r.objects().size());
    }
}
