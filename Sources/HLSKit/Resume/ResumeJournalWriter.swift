import Foundation

/// The journal's writer: a `SegmentListener` that appends one line per committed file (after the
/// file is durable under its name) and flushes it, so that every line names a file that is
/// there whole. Files an earlier run committed are not written again.
final class ResumeJournalWriter: SegmentListener, @unchecked Sendable {  // state under `lock`
    private let lock = NSLockLite()
    private let path: String
    private var descriptor: Int32
    private var known: Set<String>
    private var firstFailure: Error?

    /// Opens the journal at `path` for appending (creating it), knowing `committed` are in it.
    init(path: String, committed: [JournalEntry]) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw SinkError(errno: errno, operation: "open", path: path) }
        known = Set(committed.map(Self.key))
        try DiskSync.syncFolder(of: path)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// The first error appending met (the transcode fails with it).
    var failure: Error? { lock.withLock { firstFailure } }

    private static func key(_ entry: JournalEntry) -> String { "\(entry.rendition)/\(entry.index)/\(entry.sha256)" }

    /// Appends `entry` unless the journal has it.
    func commit(_ entry: JournalEntry) {
        lock.withLock {
            guard firstFailure == nil, !known.contains(Self.key(entry)) else { return }
            do {
                try append(entry)
                known.insert(Self.key(entry))
            } catch {
                firstFailure = error
            }
        }
    }

    /// Records a rendition's init section.
    func commitInit(rendition: String, _ written: FileSink.Written?) {
        guard let written else { return }
        commit(JournalEntry(rendition: rendition, index: JournalEntry.initIndex, file: SegmentWriter.initName,
                            bytes: written.bytes, sha256: written.sha256, firstPTS: 0, frames: 0, start: 0, duration: 0))
    }

    private func append(_ entry: JournalEntry) throws {
        let line = Array(ResumeJournal.line(try JournalText.encode(entry)).utf8)
        // The fault points count segments: not init sections, not the storyboard's tiles.
        let segment = entry.index != JournalEntry.initIndex && entry.rendition != StoryboardLayout.folder
        if segment, FaultPoint.isDue(.journalTorn) {
            try write(Array(line.prefix(line.count / 2)))
            fsync(descriptor)
            kill(getpid(), SIGKILL)
        }
        try write(line)
        if segment { FaultPoint.reach(.journalAppended) }
        if fsync(descriptor) != 0 { throw SinkError(errno: errno, operation: "fsync", path: path) }
        if segment { FaultPoint.reach(.segmentCommitted) }
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let result = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw SinkError(errno: errno, operation: "write", path: path)
            }
            offset += result
        }
    }

    // MARK: - SegmentListener

    func segmentFinished(_ segment: FinishedSegment) { commit(segment.journalEntry) }

    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?) {}
}

/// JSON of plans and journal lines: sorted keys, so that the same value gives the same text.
enum JournalText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
