import Foundation

/// A rendition as everything after the encoder sees it: a value, never a pipeline object.
struct RenditionSummary: Sendable, Equatable {
    enum Role: Sendable, Equatable {
        /// A video rung: a variant of its own, playing with the audio group.
        case video(width: Int, height: Int, videoRange: VideoRange)
        /// The audio group every video variant plays with.
        case audioGroup(language: String)
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

/// One finished segment: its file is complete and closed, its duration measured.
struct FinishedSegment: Sendable, Equatable {
    /// `RenditionSummary.folder` of its rendition.
    var rendition: String
    /// Index, file name, bytes, start and duration on the presentation timeline.
    var record: SegmentRecord
    /// The rendition's CODECS as known when the segment closed (video: from the stream's SPS).
    var codecs: String?
}

/// Takes what rendition writers report: each finished segment as it closes, then the end of each
/// stream with every segment's final record. Called from the encoder threads (video) and the
/// decoding thread (audio); conforming types serialise what they keep.
protocol SegmentListener: AnyObject, Sendable {
    func segmentFinished(_ segment: FinishedSegment)
    /// The rendition wrote its last segment; `records` are all of its segments, in order, the last
    /// one's duration running to the end of its media.
    func streamEnded(rendition: String, records: [SegmentRecord], codecs: String?)
}
