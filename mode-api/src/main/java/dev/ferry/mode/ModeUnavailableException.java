package dev.ferry.mode;

/** The chosen mode cannot run on this machine (e.g. no IPVS in the kernel); startup fails, saying why. */
public final class ModeUnavailableException extends Exception {

    public ModeUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
