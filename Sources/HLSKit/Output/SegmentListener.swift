import Foundation

/// A rendition as everything after the encoder sees it: a value, never a pipeline object.
struct RenditionSummary: Sendable, Equatable {
    enum Role: Sendable, Equatable {
        /// A video rung: a variant of its own, playing with the audio group.
        case video(width: Int, height: Int, videoRange: VideoRange)
        /// One rendition of the audio group every video variant plays with.
        case audioGroup(AudioTrackLabel)
        /// An audio rendition that is a variant of its own (an audio-only source's, or the
        /// low-bandwidth audio-only variant).
        case audioOnly
    }

    /// The rendition's folder in the output, also its id.
    var folder: String
    var role: Role
    /// Bits/s a progressive master announces before anything is measured (encoder maxrate and
    /// target bitrate).
    var provisional: BandwidthStats
    /// CODECS when known before the first segment (AAC-LC); a video's comes with its segments.
    var codecs: String?

    /// The media playlist's path in the output.
    var playlist: String { folder + "/" + PlaylistPublisher.mediaName }
}

/// One finished segment: its file is complete, closed and committed (or, resuming, found equal to
/// the one committed before), its duration measured.
struct FinishedSegment: Sendable, Equatable {
    /// `RenditionSummary.folder` of its rendition.
    var rendition: String
    /// Index, file name, bytes, start and duration on the presentation timeline.
    var record: SegmentRecord
    /// The rendition's CODECS as known when the segment closed (video: from the stream's SPS).
    var codecs: String?
    /// SHA-256 of the file, lowercase hex.
    var sha256: String
    /// First packet's presentation timestamp, in the stream's time base.
    var firstPTS: Int64
    /// Last (latest) packet's presentation timestamp, same time base.
    var lastPTS: Int64
    /// Packets (frames) in the segment.
    var frames: Int
    /// The stream's last segment: its duration runs to the end of its media.
    var isLast: Bool

    /// The journal's entry for it.
    var journalEntry: JournalEntry {
        JournalEntry(rendition: rendition, index: record.index, file: record.uri, bytes: record.byteSize, sha256: sha256,
                     firstPTS: firstPTS, frames: frames, start: record.startTime, duration: record.duration)
    }
}

/// Takes what rendition writers report: each finished segment as it closes (the last one too,
/// `isLast`), then the end of each stream with every segment's final record. Called from the
/// encoder threads (video) and the decoding thread (audio); conforming types serialise what they keep.
protocol SegmentListener: AnyObject, Sendable {
    func segmentFinished(_ segment: FinishedSegment)
    /// The rendition wrote its last segment; `records` are all of its segments, in order, the last
    /// one's duration running to the end of its media.
    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?)
}

/// Several listeners told the same things, in order (the journal before the publisher, so a
/// segment is durable before a playlist lists it).
final class SegmentListeners: SegmentListener {
    let listeners: [SegmentListener]

    init(_ listeners: [SegmentListener]) { self.listeners = listeners }

    func segmentFinished(_ segment: FinishedSegment) {
        for listener in listeners { listener.segmentFinished(segment) }
    }

    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?) {
        for listener in listeners { listener.streamEnded(rendition: rendition, records: records, codecs: codecs) }
    }
}

extension SegmentLog {
    /// Notes the file the writer closed and returns the segment's value for the listeners: its
    /// duration measured to the next segment's start, or (the last) to the end of its media.
    mutating func finish(_ written: WrittenSegment, rendition: String, codecs: String?) -> FinishedSegment? {
        addFile(segment: written.index, uri: written.name, bytes: written.bytes)
        let record = written.isLast ? records().last(where: { $0.index == written.index }) : closedRecord(written.index)
        return record.map {
            FinishedSegment(rendition: rendition, record: $0, codecs: codecs, sha256: written.sha256,
                            firstPTS: written.firstPTS, lastPTS: written.lastPTS, frames: written.packets, isLast: written.isLast)
        }
    }

    /// Notes the segments a resumed run keeps, as the journal has them.
    mutating func seed(_ kept: [JournalEntry]) {
        for entry in kept {
            addMedia(segment: entry.index, start: entry.start, duration: entry.duration)
            addFile(segment: entry.index, uri: entry.file, bytes: entry.bytes)
        }
    }
}

/// What a resumed run keeps of one rendition: its committed segments 0..<count and init section.
struct KeptSegments: Sendable {
    var entries: [JournalEntry] = []
    var initSection: JournalEntry?
    /// fMP4 video: the sequence number of the fragment after the kept segments' last one.
    var nextFragment: Int?
    /// MPEG-TS video: the continuity counters the kept segments end with.
    var continuity: [UInt16: UInt8]?

    static let none = KeptSegments()

    /// SHA-256 of the kept files by index, the init section's at `JournalEntry.initIndex`: what
    /// the writer compares instead of writing.
    var committed: [Int: String] {
        var hashes = Dictionary(uniqueKeysWithValues: entries.map { ($0.index, $0.sha256) })
        if let initSection { hashes[JournalEntry.initIndex] = initSection.sha256 }
        return hashes
    }
}
