/// Why a step of a split transcode (`ChunkedTranscode`) cannot go on. Each case maps to a sysexits
/// code for the command line; engine failures are `TranscodeError`s.
public enum ChunkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The work folder holds no plan.
    case noPlan(String)
    /// The work folder holds a plan for another source or other settings.
    case planExists(String)
    /// No such chunk in the plan.
    case unknownChunk(String)
    /// The source, the engine or a committed chunk does not match the plan.
    case mismatch(String)
    /// Not every chunk is committed yet (names the missing ones).
    case notReady(String)
    /// The job failed (a chunk gave up): its failed marker is in the work folder.
    case jobFailed(String)

    /// The message: one line naming the work folder, chunk or source at fault, and why.
    public var description: String {
        switch self {
        case .noPlan(let message), .planExists(let message), .unknownChunk(let message), .mismatch(let message),
             .notReady(let message), .jobFailed(let message):
            return message
        }
    }

    /// sysexits(3): 66 no plan, 73 another plan there, 64 unknown chunk, 65 mismatch, 75 not ready
    /// (try again later), 69 the job failed.
    public var exitCode: Int32 {
        switch self {
        case .noPlan: return 66
        case .planExists: return 73
        case .unknownChunk: return 64
        case .mismatch: return 65
        case .notReady: return 75
        case .jobFailed: return 69
        }
    }
}
