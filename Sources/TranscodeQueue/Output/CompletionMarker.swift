import Foundation

/// `.hlsify-complete.json`, the last file put in an output folder. An output folder is complete
/// when it holds `master.m3u8` and this marker names the same job; anything else under that
/// name is a leftover, removed and redone.
///
/// It also remembers whether `job.completed` was confirmed by the broker, so that a redelivery
/// after a crash between "output in place" and "event confirmed" reports the completion (once)
/// instead of losing it, and a redelivery after the event does not report it twice.
public struct CompletionMarker: Sendable, Equatable, Codable {
    public static let fileName = ".hlsify-complete.json"
    public static let masterPlaylist = "master.m3u8"

    public var jobId: String
    public var workerId: String
    public var attempt: Int
    /// ISO 8601, UTC.
    public var completedAt: String
    /// True once `job.completed` was confirmed by the broker.
    public var eventPublished: Bool
    /// The `eventId` of this output's `job.completed`, chosen before it is first published and
    /// reused by every later publication, so consumers that de-duplicate on `eventId` see one
    /// completion. Nil in markers written before it was kept (a new id is used then).
    public var eventId: String?
    /// The `job.completed` payload, to publish again if the first publication was lost.
    public var completion: JobEvent.Completion

    public init(jobId: String, workerId: String, attempt: Int, completedAt: Date = Date(), eventPublished: Bool,
                eventId: String? = nil, completion: JobEvent.Completion) {
        self.eventId = eventId
        self.jobId = jobId
        self.workerId = workerId
        self.attempt = attempt
        self.completedAt = JobEvent.timestampText(completedAt)
        self.eventPublished = eventPublished
        self.completion = completion
    }

    /// Largest marker read, in bytes (a real one is a few kilobytes).
    public static let maximumSize = 1 << 20

    /// Reads the marker of `folder`; nil when it is missing, unreadable, not a regular file (a
    /// link, a FIFO or a device planted under the name is never followed, waited on or read
    /// without end) or larger than `maximumSize`.
    public static func read(in folder: URL) -> CompletionMarker? {
        guard let data = SmallFile.read(folder.appendingPathComponent(fileName).path, maxBytes: maximumSize) else { return nil }
        return try? JSONDecoder().decode(CompletionMarker.self, from: data)
    }

    /// The marker as pretty, sorted JSON.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Writes the marker into `folder` atomically (a temporary file renamed over it) and syncs it.
    public func write(in folder: URL) throws {
        let data = Data(try encoded())
        let target = folder.appendingPathComponent(Self.fileName)
        let temporary = folder.appendingPathComponent(Self.fileName + ".tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let descriptor = open(temporary.path, O_RDONLY)
        if descriptor >= 0 { _ = fsync(descriptor); close(descriptor) }
        guard rename(temporary.path, target.path) == 0 else {
            let message = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path, NSLocalizedDescriptionKey: message])
        }
    }
}
