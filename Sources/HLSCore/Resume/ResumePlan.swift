/// Everything that decides the bytes of a transcode's segments, written once (`plan.json` in the
/// staging folder) when the timeline starts. A later run resumes onto the segments committed under
/// a plan only when its own source and settings give the same plan; it then encodes with the
/// plan's threads, not the ones it would pick on its machine (x264's output depends on them).
public struct ResumePlan: Codable, Sendable, Equatable {
    /// Bumped whenever the plan's or the journal's meaning changes.
    public static let formatVersion = 1

    public var formatVersion: Int
    /// The engine and the libraries that encode (`EngineIdentity`).
    public var engine: String
    public var source: SourceFingerprint
    public var settings: Settings
    /// The first video timestamp (the timeline's origin) and its time base.
    public var firstTimestamp: Int64
    public var timeBaseNumerator: Int32
    public var timeBaseDenominator: Int32
    /// Per video rendition, in ladder order: what its encoder ran with.
    public var renditions: [Rendition]

    /// The settings a command gives, compared as they are.
    public struct Settings: Codable, Sendable, Equatable {
        public var ladder: [String]
        public var segmentDuration: Double
        public var segmentFormat: String
        public var preset: String
        public var audioBitrate: Int
        public var audioOnlyVariantBitrate: Int?
        /// `RateControl`'s raw value; nil for ABR (as in plans written before rate control was a setting).
        public var rateControl: String?
        /// The one CRF given for every rung, if any.
        public var crf: Double?
        /// The integrated loudness the audio is normalised to, LUFS; nil: left as recorded.
        public var loudness: Double?
        /// Whether the storyboard's tiles are journaled (a run without them leaves none to resume).
        public var storyboard: Bool?
        /// The added audio files, each as `LANG[+ad]:` and its content's fingerprint; nil without any.
        public var audioFiles: [String]?
        /// Whether holes in the video are cut out of the timeline; nil: filled (as before the option).
        public var collapseGaps: Bool?

        public init(ladder: [String], segmentDuration: Double, segmentFormat: String, preset: String,
                    audioBitrate: Int, audioOnlyVariantBitrate: Int?, rateControl: String? = nil, crf: Double? = nil,
                    loudness: Double? = nil, storyboard: Bool? = nil, audioFiles: [String]? = nil, collapseGaps: Bool? = nil) {
            self.collapseGaps = collapseGaps
            self.ladder = ladder
            self.segmentDuration = segmentDuration
            self.segmentFormat = segmentFormat
            self.preset = preset
            self.audioBitrate = audioBitrate
            self.audioOnlyVariantBitrate = audioOnlyVariantBitrate
            self.rateControl = rateControl
            self.crf = crf
            self.loudness = loudness
            self.storyboard = storyboard
            self.audioFiles = audioFiles
        }
    }

    /// A video rendition's folder and x264 threading.
    public struct Rendition: Codable, Sendable, Equatable {
        public var folder: String
        public var threads: Int
        public var slicedThreads: Bool

        public init(folder: String, threads: Int, slicedThreads: Bool) {
            self.folder = folder
            self.threads = threads
            self.slicedThreads = slicedThreads
        }
    }

    public init(engine: String, source: SourceFingerprint, settings: Settings, firstTimestamp: Int64,
                timeBaseNumerator: Int32, timeBaseDenominator: Int32, renditions: [Rendition]) {
        formatVersion = Self.formatVersion
        self.engine = engine
        self.source = source
        self.settings = settings
        self.firstTimestamp = firstTimestamp
        self.timeBaseNumerator = timeBaseNumerator
        self.timeBaseDenominator = timeBaseDenominator
        self.renditions = renditions
    }

    /// Why a run with `engine`, `source` and `settings` cannot resume onto this plan; nil when it can.
    public func mismatch(engine: String, source: SourceFingerprint, settings: Settings) -> String? {
        if formatVersion != Self.formatVersion || self.engine != engine {
            return "it was made by another engine version (\(self.engine))"
        }
        if self.source != source { return "the source changed since (\(self.source.difference(from: source)))" }
        if self.settings != settings { return "it was made with other settings" }
        return nil
    }
}

/// What identifies a source file's bytes cheaply: size, modification time and SHA-256 of its
/// first and last MiB (of the whole file when it is smaller than 2 MiB).
public struct SourceFingerprint: Codable, Sendable, Equatable {
    public static let sampleBytes = 1 << 20

    public var size: Int64
    /// Modification time, nanoseconds since 1970.
    public var modifiedNanoseconds: Int64
    public var headSHA256: String
    public var tailSHA256: String

    public init(size: Int64, modifiedNanoseconds: Int64, headSHA256: String, tailSHA256: String) {
        self.size = size
        self.modifiedNanoseconds = modifiedNanoseconds
        self.headSHA256 = headSHA256
        self.tailSHA256 = tailSHA256
    }

    /// Which parts differ, in words.
    public func difference(from other: SourceFingerprint) -> String {
        var parts: [String] = []
        if size != other.size { parts.append("size") }
        if modifiedNanoseconds != other.modifiedNanoseconds { parts.append("modification time") }
        if headSHA256 != other.headSHA256 || tailSHA256 != other.tailSHA256 { parts.append("content") }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }
}
