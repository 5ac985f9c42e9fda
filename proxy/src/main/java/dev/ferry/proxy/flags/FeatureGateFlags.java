package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagNames;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** --feature-gates, in upstream's syntax (Name=bool,...; repeated flags add up), against kube-proxy v1.34's gates. */
public final class FeatureGateFlags implements FlagGroup {

    public static final String FEATURE_GATES = "--feature-gates";

    @Option(names = FEATURE_GATES, paramLabel = "NAME=BOOL", split = ",", converter = FeatureGates.SettingConverter.class,
            description = "Feature gates of kube-proxy v1.34 (e.g. LoggingAlphaOptions=true); an unknown or locked gate "
                    + "is an error, as upstream. See docs/flags.md for those that change what ferry does.")
    List<FeatureGates.Setting> settings = new ArrayList<>();

    /** The gates as given. */
    public FeatureGates gates() {
        return FeatureGates.of(settings);
    }

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        return gates().warnings();
    }
}
