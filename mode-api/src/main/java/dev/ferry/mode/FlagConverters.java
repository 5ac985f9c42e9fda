package dev.ferry.mode;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Function;

/**
 * Flag value converters with upstream kube-proxy's syntax, for every mode's flags: Go durations
 * ("500ms", "1m30s"), Go booleans ("true", "f", "1"), CIDRs, IP addresses. Each message says what
 * is wrong; picocli adds the flag's name.
 */
public final class FlagConverters {

    private FlagConverters() {
    }

    /** {@code parse}'s result, or its complaint as picocli's conversion error. */
    public static <T> T parsed(String value, Function<String, T> parse) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** A decimal integer, or a conversion error saying it is not one. */
    public static int integer(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("\"" + value + "\" is not an integer");
        }
    }

    /** Go's time.ParseDuration syntax. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parsed(value, GoDuration::parse);
        }
    }

    public static final class CidrConverter implements ITypeConverter<Cidr> {
        @Override
        public Cidr convert(String value) {
            return parsed(value, Cidr::parse);
        }
    }

    public static final class IpConverter implements ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String value) {
            return parsed(value, IpAddresses::parse);
        }
    }

    /** Go's strconv.ParseBool, as upstream's boolean flags take it. */
    public static final class BoolConverter implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            switch (value) {
                case "1": case "t": case "T": case "true": case "TRUE": case "True":
                    return true;
                case "0": case "f": case "F": case "false": case "FALSE": case "False":
                    return false;
                default:
                    throw new TypeConversionException("\"" + value + "\" is not a boolean (true or false)");
            }
        }
    }
}
