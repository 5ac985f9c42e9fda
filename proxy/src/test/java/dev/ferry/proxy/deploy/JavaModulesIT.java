package dev.ferry.proxy.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image's Java runtime holds the JDK modules that proxy.jar needs: jdeps over the jar's classes
 * (the jar unpacked: jdeps takes the shaded jar for one automatic module and reports too little)
 * names no module that deploy/image/java-modules neither lists nor leaves out with a reason, and
 * the two parts of the file do not overlap. A new use of, say, java.net.http fails here rather
 * than in a container. And the jar holds every class our own classes name.
 */
class JavaModulesIT {

    @Test
    void jdepsFindsNoModuleTheRuntimeLacks(@TempDir Path classes) throws IOException {
        Path jar = unpackedJar(classes);
        String out = jdeps("-summary", "--ignore-missing-deps", classes.toString());
        Set<String> needed = new TreeSet<>();
        for (String line : out.split("\n")) {
            String[] parts = line.strip().split(" -> ");
            if (parts.length == 2 && parts[1].matches("(java|jdk)\\.[a-z.]+")) {
                needed.add(parts[1]);
            }
        }
        assertTrue(needed.contains("java.base") && needed.contains("java.logging"), "jdeps said: " + out);

        Path file = jar.getParent().getParent().getParent().resolve("deploy/image/java-modules");
        Set<String> listed = new TreeSet<>();
        Set<String> leftOut = new TreeSet<>();
        for (String line : Files.readAllLines(file)) {
            String l = line.strip();
            if (l.matches("#\\s+(java|jdk)\\.[a-z.]+\\s+\\S.*")) { // "#   java.desktop    why" under "Left out"
                leftOut.add(l.substring(1).strip().split("\\s+")[0]);
            } else if (!l.isEmpty() && !l.startsWith("#")) {
                listed.add(l.split("\\s+")[0]);
            }
        }
        List<String> missing = new ArrayList<>(needed);
        missing.removeAll(listed);
        missing.removeAll(leftOut);
        assertEquals(List.of(), missing, "modules jdeps finds in proxy.jar that " + file + " neither lists nor leaves out");
        Set<String> both = new TreeSet<>(listed);
        both.retainAll(leftOut);
        assertEquals(Set.of(), both, "listed and left out at once");
    }

    /**
     * No class of ours names a class that proxy.jar lacks: the pom leaves fabric8 model artifacts
     * out of the jar, and the tests put some back on their own class path, so a unit test would
     * not notice that, say, NodeEvents lost events.k8s.io's Event.
     */
    @Test
    void ourClassesFindEveryClassTheyNameInTheJar(@TempDir Path classes) throws IOException {
        Path jar = unpackedJar(classes);
        List<String> ours = jdeps("--missing-deps", classes.toString()).lines().map(String::strip)
                .filter(l -> l.startsWith("dev.ferry.")).toList();
        assertEquals(List.of(), ours, "classes of ours that name classes missing from " + jar);
    }

    /** proxy.jar (failsafe names it), its classes unpacked into {@code classes}. */
    private static Path unpackedJar(Path classes) throws IOException {
        Path jar = Path.of(System.getProperty("ferry.proxyJar", "target/proxy.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run the package phase first (mvn verify does)");
        unpackClasses(jar, classes);
        return jar;
    }

    /** What jdeps prints for {@code args}; fails the test when it fails. */
    private static String jdeps(String... args) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
        StringWriter out = new StringWriter();
        int exit = jdeps.run(new PrintWriter(out), new PrintWriter(out), args);
        assertEquals(0, exit, out::toString);
        return out.toString();
    }

    /** The jar's classes without META-INF (its multi-release versions would read as odd packages). */
    private static void unpackClasses(Path jar, Path to) throws IOException {
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(jar))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.isDirectory() || !e.getName().endsWith(".class") || e.getName().startsWith("META-INF/")) {
                    continue;
                }
                Path target = to.resolve(e.getName()).normalize();
                if (!target.startsWith(to)) {
                    throw new IOException("entry outside the jar's root: " + e.getName());
                }
                Files.createDirectories(target.getParent());
                Files.copy(zip, target); // this entry only; the stream stays open
            }
        }
    }
}
