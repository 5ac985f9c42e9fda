package dev.ferry.proxy.config;

import dev.ferry.proxy.config.KubeProxyConfigFile.Setting;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins a config file to the command line: each field the file sets goes into the option of the
 * flag that means the same, through that flag's own converter (so the file and the flag accept
 * exactly the same values), unless the flag was given on the command line: flags win.
 *
 * <p>(Upstream's kube-proxy, given --config, ignores most flags but --hostname-override and the
 * logging ones; we let every flag win, which is what an operator overriding one value expects.)
 */
public final class ConfigFlags {

    private ConfigFlags() {
    }

    /** What happened to one field of the file. */
    public record Applied(Setting setting, boolean overriddenByFlag) {
    }

    /**
     * Sets the options of {@code spec} from {@code file} where {@code commandLine} did not match their flag.
     *
     * @throws ConfigFileException naming the field when its flag's converter refuses the value
     */
    public static List<Applied> apply(KubeProxyConfigFile file, CommandSpec spec, ParseResult commandLine)
            throws ConfigFileException {
        List<Applied> applied = new ArrayList<>();
        for (Setting s : file.settings()) {
            OptionSpec option = option(spec, s.flag());
            Object value;
            try {
                value = convert(option, s.value());
            } catch (Exception e) {
                throw new ConfigFileException(file.source(), s.field(), e.getMessage());
            }
            boolean overridden = commandLine.hasMatchedOption(option);
            if (!overridden) {
                option.setValue(value);
            }
            applied.add(new Applied(s, overridden));
        }
        return applied;
    }

    static OptionSpec option(CommandSpec spec, String flag) {
        OptionSpec option = spec.findOption(flag);
        if (option == null) {
            throw new IllegalStateException("the config file's schema names a flag the command does not have: " + flag);
        }
        return option;
    }

    private static Object convert(OptionSpec option, String text) throws Exception {
        if (!option.isMultiValue()) {
            return convertOne(option, option.type(), text);
        }
        List<Object> values = new ArrayList<>();
        for (String part : text.split(option.splitRegex().isEmpty() ? "," : option.splitRegex())) {
            values.add(convertOne(option, option.auxiliaryTypes()[0], part));
        }
        return values;
    }

    private static Object convertOne(OptionSpec option, Class<?> type, String text) throws Exception {
        ITypeConverter<?>[] converters = option.converters();
        if (converters != null && converters.length > 0) {
            return converters[0].convert(text);
        }
        if (type == String.class) {
            return text;
        }
        if (type == Path.class) {
            return Path.of(text);
        }
        throw new IllegalStateException(option.longestName() + ": no converter for " + type);
    }
}
