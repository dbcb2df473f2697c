/// What one committed chunk holds (`manifest.json` in its folder): per rendition its init
/// section and its segments as the encoder reported them, which is all a stitch needs.
public struct ChunkManifest: Codable, Sendable, Equatable {
    public static let formatVersion = 1
    public static let fileName = "manifest.json"

    public var formatVersion: Int
    /// The plan the chunk was encoded under.
    public var planId: String
    /// `ChunkName.folder`.
    public var chunk: String
    /// Segments [firstSegment, endSegment) of the plan (endSegment nil: to the end).
    public var firstSegment: Int
    public var endSegment: Int?
    public var renditions: [Rendition]
    /// The audio chunk: video frames the source holds (packets counted while the video was
    /// skipped) and where the video ends on the timeline, seconds.
    public var videoFrames: Int?
    public var videoEnd: Double?
    /// A video chunk: pictures it showed again in its segments to fill a hole in the source's
    /// video (they are in its renditions' frame counts, not in the source's); nil: none.
    public var heldFrames: Int?
    /// What the encoder warned about (corrupt data skipped, …).
    public var warnings: [String]
    /// Who encoded it and how long it took (for events and the speed-up model).
    public var worker: String?
    public var encodeSeconds: Double

    public struct File: Codable, Sendable, Equatable {
        public var file: String
        public var bytes: Int
        public var sha256: String

        public init(file: String, bytes: Int, sha256: String) {
            self.file = file
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct Segment: Codable, Sendable, Equatable {
        public var index: Int
        public var file: String
        public var bytes: Int
        public var sha256: String
        /// First and last packet's presentation timestamps, in the stream's time base.
        public var firstPTS: Int64
        public var lastPTS: Int64
        public var frames: Int
        /// Start on the presentation timeline and duration (the chunk's last segment: to the
        /// end of its media), seconds.
        public var start: Double
        public var duration: Double

        public init(index: Int, file: String, bytes: Int, sha256: String, firstPTS: Int64, lastPTS: Int64, frames: Int,
                    start: Double, duration: Double) {
            self.index = index
            self.file = file
            self.bytes = bytes
            self.sha256 = sha256
            self.firstPTS = firstPTS
            self.lastPTS = lastPTS
            self.frames = frames
            self.start = start
            self.duration = duration
        }

        /// The segment's playlist values.
        public var record: SegmentRecord {
            SegmentRecord(index: index, uri: file, duration: duration, byteSize: bytes, startTime: start)
        }
    }

    public struct Rendition: Codable, Sendable, Equatable {
        public var folder: String
        public var codecs: String?
        /// fMP4: the init section (nil for MPEG-TS).
        public var initSection: File?
        public var segments: [Segment]
        /// A video rendition's measured quality over the chunk's segments, when the plan asks for it.
        public var quality: QualitySums?
        /// An audio rendition's loudness normalisation (the audio chunk), when the plan asks for it.
        public var loudness: LoudnessOutcome?

        public init(folder: String, codecs: String?, initSection: File?, segments: [Segment], quality: QualitySums? = nil) {
            self.folder = folder
            self.codecs = codecs
            self.initSection = initSection
            self.segments = segments
            self.quality = quality
        }

        private enum CodingKeys: String, CodingKey {
            case folder, codecs, initSection = "init", segments, quality, loudness
        }
    }

    public init(planId: String, chunk: String, firstSegment: Int, endSegment: Int?, renditions: [Rendition],
                videoFrames: Int? = nil, videoEnd: Double? = nil, heldFrames: Int? = nil, warnings: [String] = [],
                worker: String? = nil, encodeSeconds: Double = 0) {
        self.heldFrames = heldFrames
        formatVersion = Self.formatVersion
        self.planId = planId
        self.chunk = chunk
        self.firstSegment = firstSegment
        self.endSegment = endSegment
        self.renditions = renditions
        self.videoFrames = videoFrames
        self.videoEnd = videoEnd
        self.warnings = warnings
        self.worker = worker
        self.encodeSeconds = encodeSeconds
    }

    public func rendition(_ folder: String) -> Rendition? { renditions.first { $0.folder == folder } }
}
