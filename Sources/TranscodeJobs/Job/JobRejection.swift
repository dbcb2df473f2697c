/// Why a message ended in the dead-letter queue. The raw value is what the `x-hlsify-reason`
/// header and the event's `error.reason` carry; consumers may switch on it.
public enum DeadLetterReason: String, Sendable, Equatable, Codable, CaseIterable {
    // The message is not a job this worker can take (`job.rejected`):
    /// The body is not JSON (or not UTF-8).
    case notJSON = "not-json"
    /// JSON, but not a valid job: not an object, a field missing, a wrong type, a value out of range.
    case invalidJob = "invalid-job"
    /// `jobId` is not a safe name.
    case unsafeJobId = "unsafe-job-id"
    /// A path is absolute, contains `..`, or leads (through a symbolic link) outside its root.
    case unsafePath = "unsafe-path"
    /// The body is larger than the worker accepts.
    case tooLarge = "too-large"
    /// The output folder already holds the complete output of another job.
    case outputConflict = "output-conflict"

    // The job was tried and will never succeed (`job.failed` with `deadLettered: true`):
    /// The input (or a subtitle file) is not usable media.
    case badMedia = "bad-media"
    /// The input (or a subtitle file) does not exist or cannot be read.
    case inputMissing = "input-missing"
    /// Failed for a passing reason on every one of `--max-attempts` deliveries.
    case attemptsExhausted = "max-attempts"
    /// A chunk of a job split by time, whose job failed already (another chunk gave up): it is
    /// dead-lettered without an event of its own (the job's `job.failed` was sent once).
    case jobFailed = "job-failed"

    /// Rejections are reported as `job.rejected`, failures as `job.failed`.
    public var isRejection: Bool {
        switch self {
        case .notJSON, .invalidJob, .unsafeJobId, .unsafePath, .tooLarge, .outputConflict: return true
        case .badMedia, .inputMissing, .attemptsExhausted, .jobFailed: return false
        }
    }
}

/// A message that cannot be taken as a job: what is wrong, and the job id when one could be read.
public struct JobRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: DeadLetterReason
    /// Human-readable detail, naming the field: `ladder[1]: "4k" is not a rung …`.
    public var message: String
    /// The body's `jobId` when it is a string (even an unsafe one, shortened), else nil.
    public var jobId: String?

    public init(_ reason: DeadLetterReason, _ message: String, jobId: String? = nil) {
        self.reason = reason
        self.message = message
        self.jobId = jobId
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
