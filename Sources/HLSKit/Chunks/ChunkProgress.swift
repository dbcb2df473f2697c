import Foundation

/// A chunk's progress as a fraction of the chunk: the pass reports its position on the whole
/// timeline (a video chunk starts at its pre-roll and ends at its last segment's end).
struct ChunkProgress: Sendable {
    let start: Double
    let end: Double?

    init(layout: ChunkLayout, range: (first: Int, end: Int?), duration: Double?) {
        start = Double(range.first) * layout.segmentDuration
        end = range.end.map { Double($0) * layout.segmentDuration } ?? duration
    }

    func map(_ snapshot: TranscodeProgress) -> TranscodeProgress {
        var mapped = snapshot
        guard let end, end > start else { return mapped }
        mapped.fraction = min(1, max(0, (snapshot.mediaSeconds - start) / (end - start)))
        if mapped.speed > 0 { mapped.etaSeconds = max(0, (end - snapshot.mediaSeconds) / mapped.speed) }
        return mapped
    }
}

/// Watches for a job's failed marker while a chunk encodes (checked at most once a second from
/// the progress callback): when it appears, the pass is cancelled.
final class FailedMarkerWatch: @unchecked Sendable {  // `lastCheck` and `sawMarker` change under `lock`
    private let folder: ChunkWork
    private let cancel: InterruptFlag
    private let lock = NSLockLite()
    private var lastCheck = Date.distantPast
    private var saw = false

    init(folder: ChunkWork, cancel: InterruptFlag) {
        self.folder = folder
        self.cancel = cancel
    }

    var sawMarker: Bool { lock.withLock { saw } }

    func poll() {
        let due: Bool = lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(lastCheck) >= 1 else { return false }
            lastCheck = now
            return true
        }
        guard due, FileManager.default.fileExists(atPath: folder.failedURL.path) else { return }
        lock.withLock { saw = true }
        cancel.raise()
    }
}
