package dev.ferry.ipvs.uml;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The init script the guest runs: arguments reach commands unchanged, never through the shell's expansion. */
class UmlGuestTest {

    @Test
    void argumentsAreSingleQuoted() {
        assertEquals("'plain'", UmlGuest.quote("plain"));
        assertEquals("'it'\\''s $HOME `x`'", UmlGuest.quote("it's $HOME `x`"));
    }

    @Test
    void scriptLoadsModulesRunsCommandsInOrderAndRecordsTheStatus() {
        String s = UmlGuest.script(Path.of("/r"), Path.of("/o"), Path.of("/s"),
                List.of(List.of("ipvsadm", "-Ln"), List.of("echo", "a b; rm -rf /")));
        assertTrue(s.contains("modprobe -d '/r' 'ip_vs' ||"), s);
        assertTrue(s.contains("modprobe -d '/r' 'dummy' ||"), s);
        assertTrue(s.indexOf("'ipvsadm' '-Ln'") < s.indexOf("'echo' 'a b; rm -rf /'"), s);
        assertTrue(s.contains("echo $rc >'/s'"), s);
        assertTrue(s.strip().endsWith("halt -f"), s);
    }
}
