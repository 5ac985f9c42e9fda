package dev.ferry.ipvs.uml;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The assertions of the check mains that run inside a {@link UmlGuest} (no JUnit there): each passed check prints
 * "ok NAME"; the first failure prints "FAILED ..." and exits 1, which the guest reports as the run's status.
 */
public final class GuestCheck {

    private GuestCheck() {
    }

    /** Runs a command in the guest; its output (stdout and stderr), or a failure if it exits non-zero. */
    public static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    public static String run(String... command) throws Exception {
        return run(Arrays.asList(command));
    }

    public static void equal(String check, Object expected, Object actual) {
        check(check, expected.equals(actual), "expected " + expected + "\n  but got " + actual);
    }

    public static void check(String check, boolean passed, String detail) {
        if (!passed) {
            fail(check + ": " + detail);
        }
    }

    public static void ok(String check) {
        System.out.println("ok " + check);
    }

    public static void fail(String message) {
        System.out.println("FAILED " + message);
        System.out.flush();
        System.exit(1);
    }
}
