import Foundation

/// Keeps the segment values a part's renditions report, for its manifest. Called from the
/// encoder threads (video) and the decoding thread (audio).
final class ChunkCollector: SegmentListener, @unchecked Sendable {  // all state is read and written under `lock`
    private let lock = NSLockLite()
    private var segments: [String: [FinishedSegment]] = [:]
    private var codecs: [String: String] = [:]

    func segmentFinished(_ segment: FinishedSegment) {
        // The segment's file is committed (a chunk keeps no journal: its folder is its commit).
        FaultPoint.reach(.segmentCommitted)
        lock.withLock {
            segments[segment.rendition, default: []].append(segment)
            if let known = segment.codecs { codecs[segment.rendition] = known }
        }
    }

    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?) {
        lock.withLock {
            if let codecs { self.codecs[rendition] = codecs }
            // The ended records carry every segment's final duration (the last one's to the end of its media).
            let final = Dictionary(records.map { ($0.index, $0) }, uniquingKeysWith: { $1 })
            segments[rendition] = segments[rendition]?.map { segment in
                var segment = segment
                if let record = final[segment.record.index] { segment.record = record }
                return segment
            }
        }
    }

    /// The manifest's entry for the rendition in `folder`, with its init section as written.
    func rendition(_ folder: String, initSection: FileSink.Written?, quality: QualitySums? = nil,
                   loudness: LoudnessOutcome? = nil) -> ChunkManifest.Rendition {
        lock.withLock {
            let finished = (segments[folder] ?? []).sorted { $0.record.index < $1.record.index }
            var rendition = ChunkManifest.Rendition(
                folder: folder, codecs: codecs[folder],
                initSection: initSection.map { ChunkManifest.File(file: SegmentWriter.initName, bytes: $0.bytes, sha256: $0.sha256) },
                segments: finished.map { segment in
                    ChunkManifest.Segment(index: segment.record.index, file: segment.record.uri, bytes: segment.record.byteSize,
                                          sha256: segment.sha256, firstPTS: segment.firstPTS, lastPTS: segment.lastPTS,
                                          frames: segment.frames, start: segment.record.startTime, duration: segment.record.duration)
                }, quality: quality)
            rendition.loudness = loudness
            return rendition
        }
    }
}
