/// How a source is split by time: video chunks of `chunkSegments` whole segments each (the last
/// runs to the end of the video), plus one chunk that encodes the whole audio.
public struct ChunkLayout: Codable, Sendable, Equatable {
    public var segmentDuration: Double
    public var chunkSegments: Int
    public var videoChunks: Int

    /// Chunks of `chunkDuration` seconds of media, rounded down to whole segments (one at least);
    /// 0, an unknown duration or a source within one chunk gives a single video chunk.
    public init(durationSeconds: Double?, segmentDuration: Double, chunkDuration: Double) {
        self.segmentDuration = segmentDuration
        let perChunk = max(1, Int((chunkDuration / segmentDuration).rounded(.down)))
        chunkSegments = perChunk
        guard chunkDuration > 0, let duration = durationSeconds, duration.isFinite, duration > 0 else {
            videoChunks = 1
            return
        }
        let segments = Int((duration / segmentDuration).rounded(.up))
        videoChunks = max(1, (segments + perChunk - 1) / perChunk)
    }

    public init(segmentDuration: Double, chunkSegments: Int, videoChunks: Int) {
        self.segmentDuration = segmentDuration
        self.chunkSegments = chunkSegments
        self.videoChunks = videoChunks
    }

    /// Segments [first, end) of video chunk `k`; `end` is nil for the last chunk (to the end).
    public func segments(ofVideoChunk k: Int) -> (first: Int, end: Int?) {
        (k * chunkSegments, k + 1 < videoChunks ? (k + 1) * chunkSegments : nil)
    }

    /// Every chunk, video chunks in order, then the audio.
    public var chunks: [ChunkName] { (0..<videoChunks).map(ChunkName.video) + [.audio] }

    /// A worker splits a job only when its source is at least two chunks long (a shorter one gains
    /// little and pays a plan and a stitch); `chunkDuration` 0 never splits.
    public static func splits(durationSeconds: Double?, chunkDuration: Double) -> Bool {
        guard chunkDuration > 0, let duration = durationSeconds, duration.isFinite else { return false }
        return duration >= 2 * chunkDuration
    }
}

/// One chunk of a split transcode: a time range of the video (numbered from 0), or the whole audio.
public enum ChunkName: Hashable, Sendable, Comparable, CustomStringConvertible {
    case video(Int)
    case audio

    /// Its committed folder's name: `video-003` or `audio`.
    public var folder: String {
        switch self {
        case .video(let k): return "video-" + String(repeating: "0", count: max(0, 3 - String(k).count)) + String(k)
        case .audio: return "audio"
        }
    }

    /// As a command line names it: `3` or `audio`.
    public var argument: String {
        switch self {
        case .video(let k): return String(k)
        case .audio: return "audio"
        }
    }

    public var description: String { folder }

    /// Reads `3`, `003`, `video-003` or `audio`.
    public init?(_ text: String) {
        if text == "audio" { self = .audio; return }
        let digits = text.hasPrefix("video-") ? String(text.dropFirst(6)) : text
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let k = Int(digits) else { return nil }
        self = .video(k)
    }
}
