package dev.ferry.proxy;

import dev.ferry.mode.ConfigField;
import dev.ferry.proxy.config.ConfigFieldsForTests;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/flags.md against the program: every flag its tables list is accepted by the parser (its
 * example parses) and is listed in --help or hidden as the table says; every flag --help lists is in
 * the tables; every config field is in the field table, naming the flag it sets. So the page cannot
 * drift from the code.
 */
class FlagTableTest {

    static final Path PAGE = Path.of("../docs/flags.md");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    /** One flag of a table row: the example as written, the flag it names, and whether --help lists it. */
    record Row(String example, String flag, boolean listed, String line) {
    }

    static List<Row> flagRows() throws IOException {
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(PAGE)) {
            if (!line.startsWith("| `-")) {
                continue;
            }
            String[] cells = line.split("\\|");
            String help = cells[2].trim();
            assertTrue(help.equals("listed") || help.equals("hidden"), "the --help column says listed or hidden: " + line);
            Matcher m = CODE.matcher(cells[1]);
            while (m.find()) {
                String example = m.group(1);
                int eq = example.indexOf('=');
                rows.add(new Row(example, eq < 0 ? example : example.substring(0, eq), help.equals("listed"), line));
            }
        }
        return rows;
    }

    /** The field table: each field path with the ferry column's text. */
    static List<String[]> fieldRows() throws IOException {
        List<String[]> rows = new ArrayList<>();
        boolean inFields = false;
        for (String line : Files.readAllLines(PAGE)) {
            if (line.startsWith("## ")) {
                inFields = line.startsWith("## KubeProxyConfiguration fields");
            } else if (inFields && line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                Matcher m = CODE.matcher(cells[1]);
                while (m.find()) {
                    rows.add(new String[] {m.group(1), cells[2].trim()});
                }
            }
        }
        return rows;
    }

    private static String help() {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--help");
        assertEquals(0, r.status(), r.err());
        return r.out();
    }

    @TestFactory
    Stream<DynamicTest> everyFlagOfThePageIsAcceptedAndListedAsItSays() throws IOException {
        String help = help();
        return flagRows().stream().map(row -> DynamicTest.dynamicTest(row.example(), () -> {
            ProxyOptions options = new ProxyOptions();
            OptionSpec option = options.commandLine().getCommandSpec().findOption(row.flag());
            assertNotNull(option, "the parser does not know " + row.flag());
            options.parse(row.example()); // the example's value passes the flag's converter
            if (row.listed()) {
                assertFalse(option.hidden(), row.flag() + " is hidden, the page says listed");
                assertTrue(help.contains(row.flag()), "--help does not list " + row.flag());
            } else {
                assertTrue(option.hidden(), row.flag() + " is listed in --help, the page says hidden");
            }
        }));
    }

    @Test
    void everyFlagOfHelpIsOnThePage() throws IOException {
        Set<String> onPage = new TreeSet<>();
        flagRows().forEach(r -> onPage.add(r.flag()));
        CommandSpec spec = new ProxyOptions().commandLine().getCommandSpec();
        Set<String> missing = new TreeSet<>();
        for (OptionSpec o : spec.options()) {
            for (String name : o.names()) {
                if (!onPage.contains(name)) {
                    missing.add(name);
                }
            }
        }
        assertEquals(Set.of(), missing, "flags the parser has and docs/flags.md does not list");
    }

    @Test
    void everyConfigFieldIsOnThePageWithTheFlagItSets() throws IOException {
        List<String[]> rows = fieldRows();
        Set<String> onPage = new TreeSet<>();
        rows.forEach(r -> onPage.add(r[0]));
        List<String> problems = new ArrayList<>();
        for (ConfigField f : ConfigFieldsForTests.builtIn()) {
            if (!onPage.contains(f.path())) {
                problems.add(f.path() + " is not on the page");
            } else if (!f.ignored()) {
                String ferry = rows.stream().filter(r -> r[0].equals(f.path())).findFirst().orElseThrow()[1];
                String flag = f.flag().equals("--v") ? "-v" : f.flag();
                if (!ferry.contains("`" + flag + "`")) {
                    problems.add(f.path() + " sets " + f.flag() + ", the page says: " + ferry);
                }
            }
        }
        assertEquals(List.of(), problems);
    }
}
