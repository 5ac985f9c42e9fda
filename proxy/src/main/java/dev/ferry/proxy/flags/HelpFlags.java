package dev.ferry.proxy.flags;

import dev.ferry.mode.InvalidFlagException;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;

/** -h/--help and --version, listed last; --version takes upstream's values (verflag: true, false, raw, vX.Y.Z). */
public final class HelpFlags {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = {"-V", "--version"}, arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|raw", description = "Print version information and exit.")
    String version;

    /**
     * Whether --version asks for the version: true or raw print it, false does not; vX.Y.Z (which
     * upstream then reports as its own version) is refused, naming the flag.
     */
    public boolean versionRequested() {
        if (version.equals("true") || version.equals("raw")) {
            return true;
        }
        if (version.equals("false")) {
            return false;
        }
        throw new InvalidFlagException("--version: \"" + version + "\": ferry reports its own version; use --version or "
                + "--version=raw");
    }

    /** "ferry-proxy VERSION" from the jar's manifest. */
    public static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = HelpFlags.class.getPackage().getImplementationVersion();
            return new String[] {"ferry-proxy " + (v == null ? "(development build)" : v)};
        }
    }
}
