package dev.ferry.proxy;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.mode.ModeUnavailableException;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.SyncPeriods;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.netfilter.KubeChains;
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
import java.util.Optional;
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
        for (String flag : flags) {
            assertTrue(r.out().contains(flag), flag + " of " + mode.name() + " in\n" + r.out());
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  " + mode.name() + " ") && l.contains(mode.summary())),
                mode.name() + " in the modes section of\n" + r.out());
    }

    @ParameterizedTest
    @MethodSource("modes")
    void itsConfigFieldsSetFlagsOfTheCommandLine(ProxyMode mode) {
        CommandLine cli = new ProxyOptions().commandLine();
        for (ConfigField field : mode.configFields()) {
            if (!field.ignored()) {
                assertNotNull(cli.getCommandSpec().findOption(field.flag()), field.path() + " of " + mode.name()
                        + " sets " + field.flag() + ", which is not a flag");
            }
        }
    }

    @Test
    void cleanupRunsEveryModesCleanup() {
        List<String> cleaned = new CopyOnWriteArrayList<>();
        List<ProxyMode> recording = new ArrayList<>();
        for (ProxyMode mode : ProxyModes.builtIn().all()) {
            recording.add(new Recording(mode, cleaned, new CopyOnWriteArrayList<>()));
        }
        // a dry run: every mode's cleanup is built and run, and nothing on this machine changes
        Run r = main(new ProxyModes(recording), "--cleanup", "--dry-run");
        assertEquals(0, r.status(), r.err());
        assertEquals(ProxyModes.builtIn().all().stream().map(ProxyMode::name).toList(), cleaned);
    }

    @Test
    void startingAModeRemovesTheOthersLeftovers() {
        List<String> removed = new CopyOnWriteArrayList<>();
        List<ProxyMode> recording = new ArrayList<>();
        for (ProxyMode mode : ProxyModes.builtIn().all()) {
            recording.add(new Recording(mode, new CopyOnWriteArrayList<>(), removed));
        }
        Run r = main(new ProxyModes(recording), "--proxy-mode=iptables", "--dry-run", "--once",
                "--manifests=../examples/manifests", "--hostname-override=node-a");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("ipvs", "userspace"), removed, "every other mode's, not its own");
    }

    @Test
    void namesAreUniqueAndEachModeRemovesTheOthersChains() {
        ProxyModes modes = ProxyModes.builtIn();
        Set<String> names = new HashSet<>();
        for (ProxyMode m : modes.all()) {
            assertTrue(names.add(m.name()), "two modes named " + m.name());
        }
        assertTrue(modes.leftoversFor(modes.named("iptables")).test("KUBE-PORTALS-CONTAINER"));
        assertFalse(modes.leftoversFor(modes.named("iptables")).test("KUBE-SVC-AAAAAAAAAAAAAAAA"), "not its own");
        assertTrue(modes.leftoversFor(modes.named("userspace")).test("KUBE-SVC-AAAAAAAAAAAAAAAA"));
        assertFalse(modes.leftoversFor(modes.named("userspace")).test("KUBE-MARK-MASQ"), "shared with kubelet: kept");
        assertEquals("iptables", modes.defaultMode().name(), "upstream's default on Linux");
    }

    /**
     * What ipvs mode is given to remove at its first sync (by name; it keeps those it writes itself, per table:
     * nat KUBE-SERVICES stays, filter KUBE-SERVICES goes). IpvsRulesPrivilegedTest proves the removal with these names.
     */
    @Test
    void ipvsModeIsGivenTheIptablesAndUserspaceModesChains() {
        ProxyModes modes = ProxyModes.builtIn();
        Predicate<String> leftovers = modes.leftoversFor(modes.named("ipvs"));
        for (String chain : List.of("KUBE-SVC-AAAAAAAAAAAAAAAA", "KUBE-SVL-AAAAAAAAAAAAAAAA", "KUBE-EXT-AAAAAAAAAAAAAAAA",
                "KUBE-FW-AAAAAAAAAAAAAAAA", "KUBE-SEP-AAAAAAAAAAAAAAAA", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES",
                "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY",
                "KUBE-PORTALS-CONTAINER", "KUBE-PORTALS-HOST", "KUBE-NODEPORT-CONTAINER", "KUBE-NODEPORT-HOST",
                "KUBE-NODEPORT-NON-LOCAL")) {
            assertTrue(leftovers.test(chain), chain);
        }
        for (String chain : List.of("KUBE-MARK-MASQ", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-IPVS-FILTER")) {
            assertFalse(leftovers.test(chain), chain + ": not another mode's alone");
        }
    }

    /** No mode claims the kubelet's chains: none removes them at start (and --cleanup keeps them too). */
    @ParameterizedTest
    @MethodSource("modes")
    void noModeRemovesTheKubeletsChains(ProxyMode mode) {
        for (String chain : KubeChains.KUBELET) {
            assertFalse(mode.ownedChains().test(chain), chain + " owned by " + mode.name());
            assertFalse(KubeChains.isOurs(chain), chain);
        }
    }

    /** A registered mode whose cleanup and leftover removal record that they ran, then do the real ones. */
    private record Recording(ProxyMode mode, List<String> cleaned, List<String> leftoversRemoved) implements ProxyMode {
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
            return new RecordingOptions(real, () -> cleaned.add(mode.name()), () -> leftoversRemoved.add(mode.name()));
        }

        @Override
        public List<ConfigField> configFields() {
            return mode.configFields();
        }

        @Override
        public Optional<String> dryRunUnavailable() {
            return mode.dryRunUnavailable();
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
        public ModeView view(LiveNode node) {
            return mode.view(node);
        }
    }

    /** The real options as a mixin (its flags), with cleanup and leftover removal recorded. */
    public static final class RecordingOptions implements ModeOptions {
        @CommandLine.Mixin
        final Object flags;
        private final ModeOptions real;
        private final Runnable onCleanup;
        private final Runnable onLeftovers;

        RecordingOptions(ModeOptions real, Runnable onCleanup, Runnable onLeftovers) {
            this.flags = real;
            this.real = real;
            this.onCleanup = onCleanup;
            this.onLeftovers = onLeftovers;
        }

        @Override
        public void validate(FlagNames names) {
            real.validate(names);
        }

        @Override
        public Optional<SyncPeriods> syncPeriods() {
            return real.syncPeriods();
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

        @Override
        public void removeLeftovers(ModeContext context) {
            onLeftovers.run();
            real.removeLeftovers(context);
        }
    }
}
