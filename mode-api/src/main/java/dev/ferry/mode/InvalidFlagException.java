package dev.ferry.mode;

/** A flag value that is wrong only together with others; the message names the flag (or its config field). */
public final class InvalidFlagException extends RuntimeException {

    public InvalidFlagException(String message) {
        super(message);
    }
}
