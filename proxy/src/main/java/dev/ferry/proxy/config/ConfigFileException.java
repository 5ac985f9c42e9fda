package dev.ferry.proxy.config;

/** A config file that cannot be used; the message names the file and, when there is one, the field. */
public final class ConfigFileException extends Exception {

    ConfigFileException(String source, String field, String problem) {
        super("config file " + source + ": " + (field == null ? "" : "field " + field + ": ") + problem);
    }

    ConfigFileException(String source, String problem, Throwable cause) {
        super("config file " + source + ": " + problem, cause);
    }
}
