package dev.ferry.mode;

/**
 * A flag's value that writes itself back as the text its flag takes (for --write-config-to), when
 * that differs from its {@code toString()}.
 */
public interface FlagText {

    /** The text the flag's converter reads back as this value. */
    String flagText();
}
