import Foundation

/// Named steps of a segment's commit where a test can have the process killed (SIGKILL, as the
/// OOM killer or a power cut would), deterministically: `HLSIFY_TEST_KILL_AT=STEP:N` kills it the
/// N-th time (1-based, counted over every rendition) it reaches STEP. Unset, it costs one
/// comparison per step.
enum FaultPoint: String, CaseIterable {
    /// A segment's bytes are written to its temporary name, not yet flushed.
    case segmentWritten = "segment-written"
    /// Flushed (fsync), not yet renamed to its name.
    case segmentSynced = "segment-synced"
    /// Renamed; the folder not yet flushed, the journal not yet told.
    case segmentRenamed = "segment-renamed"
    /// Half of the segment's journal line is written (and flushed).
    case journalTorn = "journal-torn"
    /// The journal line is written, not yet flushed.
    case journalAppended = "journal-appended"
    /// The segment is committed.
    case segmentCommitted = "segment-committed"
    /// A time chunk is committed (its folder renamed into place), before anything is told.
    case chunkCommitted = "chunk-committed"
    /// The worker planning a split job has published one more chunk message (confirmed).
    case chunkPublished = "chunk-published"

    private static let armed: (point: FaultPoint, count: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["HLSIFY_TEST_KILL_AT"] else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let point = FaultPoint(rawValue: String(parts[0])), let count = Int(parts[1]), count > 0 else {
            return nil
        }
        return (point, count)
    }()
    private static let lock = NSLockLite()
    nonisolated(unsafe) private static var reached = 0  // guarded by `lock`

    /// True when this reach of `self` is the one the environment names (counting it).
    static func isDue(_ point: FaultPoint) -> Bool {
        guard let armed, armed.point == point else { return false }
        return lock.withLock {
            reached += 1
            return reached == armed.count
        }
    }

    /// True when `HLSIFY_TEST_FAIL_CHUNK` names this chunk (`2`, `audio`): its every encode fails
    /// with an I/O error, as a chunk that can never be made would.
    static func failsChunk(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment["HLSIFY_TEST_FAIL_CHUNK"] == name
    }

    /// Kills the process here if this is the reach the environment names.
    static func reach(_ point: FaultPoint) {
        if isDue(point) { kill(getpid(), SIGKILL) }
    }
}

/// The fault points of steps outside the engine (the worker's), for tests: `HLSIFY_TEST_KILL_AT`.
public enum TestFaults {
    /// The worker published another chunk message of a job it planned.
    public static func chunkPublished() { FaultPoint.reach(.chunkPublished) }
}
