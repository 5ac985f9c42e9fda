package dev.ferry.bench;

/**
 * One kind of real sync measured over several rounds: wall time (without the harness's side
 * copy of the payload), and its parts as the {@link RecordingRunner} saw them.
 */
final class SyncSeries {

    final Samples wall = new Samples();
    final Samples save = new Samples();
    final Samples restore = new Samples();
    final Samples other = new Samples();
    final Samples copy = new Samples();
    final Samples allocated = new Samples();
    final Samples baseline = new Samples();
    /** Peak heap during the sync (sum of pool peaks, an upper bound). */
    final Samples heapPeak = new Samples();
    /** Why a sync of this kind failed (e.g. OutOfMemoryError under the heap cap); null if none did. */
    String failure;
    boolean sawFull;
    boolean sawPartial;
    long lastPayloadBytes;

    /** Wall time left for our own JVM work: total minus the commands. */
    long jvmMedian() {
        return Math.max(0, wall.median() - save.median() - restore.median() - other.median());
    }
}
