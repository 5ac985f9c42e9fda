package dev.ferry.proxy;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.mode.ModeUnavailableException;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.proxy.modes.ProxyModes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every registered mode, through the whole command line: selectable by --proxy-mode and by the
 * config file's {@code mode}, its flags listed in --help, its cleanup run by --cleanup. A mode
 * added to {@link ProxyModes#builtIn()} is covered without touching this test.
 */
class ProxyModesTest {

    @TempDir
    Path dir;

    static Stream<ProxyMode> modes() {
        return ProxyModes.builtIn().all().stream();
    }

    record Run(int status, String out, String err) {
    }

    private static Run main(ProxyModes modes, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new CountDownLatch(1), modes);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The options a command line gives, as Main reads them. */
    private static ProxyOptions parse(String... args) {
        ProxyOptions o = new ProxyOptions();
        o.commandLine().parseArgs(args);
        o.validate();
        return o;
    }

    @ParameterizedTest
    @MethodSource("modes")
    void selectableByTheFlag(ProxyMode mode) {
        assertEquals(mode.name(), parse("--proxy-mode=" + mode.name()).mode().name());
        assertEquals(mode.name(), parse("--proxy-mode", mode.name()).mode().name());
    }

    @ParameterizedTest
    @MethodSource("modes")
    void selectableByTheConfigFile(ProxyMode mode) throws IOException {
        Path config = Files.writeString(dir.resolve("config.yaml"), """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                mode: %s
                """.formatted(mode.name()));
        Path written = dir.resolve("effective.yaml");
        Run r = main(ProxyModes.builtIn(), "--config=" + config, "--write-config-to=" + written);
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.readString(written).contains("\nmode: " + mode.name() + "\n"), Files.readString(written));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void itsFlagsAndItsNameAreInTheHelp(ProxyMode mode) {
        Run r = main(ProxyModes.builtIn(), "--help");
        assertEquals(0, r.status(), r.err());
        List<String> flags = new ArrayList<>();
        for (OptionSpec option : new CommandLine(mode.newOptions()).getCommandSpec().options()) {
            flags.add(option.longestName());
        }
        assertFalse(flags.isEmpty(), mode.name() + " has no flags");
        for (String flag : flags) {
            assertTrue(r.out().contains(flag), flag + " of " + mode.name() + " in\n" + r.out());
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  " + mode.name() + " ") && l.contains(mode.summary())),
                mode.name() + " in the modes section of\n" + r.out());
    }

    @ParameterizedTest
    @MethodSource("modes")
    void itsConfigFieldsSetItsOwnFlags(ProxyMode mode) {
        Set<String> own = new HashSet<>();
        for (OptionSpec option : new CommandLine(mode.newOptions()).getCommandSpec().options()) {
            own.addAll(List.of(option.names()));
        }
        for (ConfigField field : mode.configFields()) {
            if (!field.ignored()) {
                assertTrue(own.contains(field.flag()), field.path() + " of " + mode.name() + " sets " + field.flag()
                        + ", which is not one of its flags " + own);
            }
        }
    }

    @Test
    void cleanupRunsEveryModesCleanup() {
        List<String> cleaned = new CopyOnWriteArrayList<>();
        List<ProxyMode> recording = new ArrayList<>();
        for (ProxyMode mode : ProxyModes.builtIn().all()) {
            recording.add(new Recording(mode, cleaned));
        }
        // a dry run: every mode's cleanup is built and run, and nothing on this machine changes
        Run r = main(new ProxyModes(recording), "--cleanup", "--dry-run");
        assertEquals(0, r.status(), r.err());
        assertEquals(ProxyModes.builtIn().all().stream().map(ProxyMode::name).toList(), cleaned);
    }

    @Test
    void namesAreUniqueAndLeftoversNameRegisteredModes() {
        ProxyModes modes = ProxyModes.builtIn();
        Set<String> names = new HashSet<>();
        for (ProxyMode m : modes.all()) {
            assertTrue(names.add(m.name()), "two modes named " + m.name());
        }
        for (ProxyMode m : modes.all()) {
            assertFalse(m.removesLeftoversOf().contains(m.name()), m.name() + " removes its own chains at start");
            assertTrue(names.containsAll(m.removesLeftoversOf()), m.name() + " names an unknown mode");
            assertNotNull(modes.leftoversFor(m));
        }
        assertEquals("iptables", modes.defaultMode().name(), "upstream's default on Linux");
    }

    /** A registered mode whose cleanup records that it ran, then does the real one. */
    private record Recording(ProxyMode mode, List<String> cleaned) implements ProxyMode {
        @Override
        public String name() {
            return mode.name();
        }

        @Override
        public String summary() {
            return mode.summary();
        }

        @Override
        public ModeOptions newOptions() {
            ModeOptions real = mode.newOptions();
            return new RecordingOptions(real, () -> cleaned.add(mode.name()));
        }

        @Override
        public List<ConfigField> configFields() {
            return mode.configFields();
        }

        @Override
        public boolean supportsDryRun() {
            return mode.supportsDryRun();
        }

        @Override
        public boolean cleansConntrack() {
            return mode.cleansConntrack();
        }

        @Override
        public Predicate<String> ownedChains() {
            return mode.ownedChains();
        }

        @Override
        public Set<String> removesLeftoversOf() {
            return mode.removesLeftoversOf();
        }

        @Override
        public ModeView view(LiveNode node) {
            return mode.view(node);
        }
    }

    /** The real options as a mixin (its flags), with cleanup recorded. */
    public static final class RecordingOptions implements ModeOptions {
        @CommandLine.Mixin
        final Object flags;
        private final ModeOptions real;
        private final Runnable onCleanup;

        RecordingOptions(ModeOptions real, Runnable onCleanup) {
            this.flags = real;
            this.real = real;
            this.onCleanup = onCleanup;
        }

        @Override
        public ModeRuntime start(ModeContext context) throws ModeUnavailableException {
            return real.start(context);
        }

        @Override
        public List<FamilyBackend> cleanup(ModeContext context) {
            onCleanup.run();
            return real.cleanup(context);
        }
    }
}
