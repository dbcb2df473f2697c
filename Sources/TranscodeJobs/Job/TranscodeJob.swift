import Foundation
import HLSCore

/// One transcode job: the JSON body of a persistent message on the jobs queue.
///
/// ```json
/// { "jobId": "lecture-42", "input": "uploads/lecture-42.mp4", "output": "lecture-42",
///   "subtitles": [ { "language": "en", "name": "English", "path": "uploads/lecture-42.en.srt" } ],
///   "audio": [ { "language": "es", "path": "uploads/lecture-42.es.m4a" } ],
///   "audioDescription": [ { "language": "en", "path": "uploads/lecture-42.en-ad.m4a" } ],
///   "ladder": ["1080p", "720p", "480p"], "segmentDuration": 4, "segmentFormat": "fmp4",
///   "preset": "veryfast", "progressive": true }
/// ```
///
/// `jobId`, `input` and `output` are required; everything else falls back to the worker's
/// defaults. Paths are relative to the worker's input and output roots. Decode messages with
/// `JobDecoder`, which checks every field; this type only carries values.
/// Pure Swift: no C module, no broker.
public struct TranscodeJob: Sendable, Equatable, Encodable {
    /// A subtitle rendition made from an SRT file under the input root.
    public struct Subtitle: Sendable, Equatable, Codable {
        /// BCP 47 language tag (`en`, `pt-BR`).
        public var language: String
        /// NAME shown in players; defaults to the language's English name.
        public var name: String?
        /// SRT file, relative to the input root.
        public var path: String

        public init(language: String, name: String? = nil, path: String) {
            self.language = language
            self.name = name
            self.path = path
        }
    }

    /// An audio file under the input root added to the set as a rendition of the audio group.
    public struct AudioFile: Sendable, Equatable, Codable {
        /// BCP 47 language tag (`es`, `pt-BR`).
        public var language: String
        /// Media file with an audio stream, relative to the input root.
        public var path: String

        public init(language: String, path: String) {
            self.language = language
            self.path = path
        }
    }

    /// Names the job in events, logs and the completion marker; a safe name (see `JobNames`).
    public var jobId: String
    /// Source video, relative to the input root.
    public var input: String
    /// Output folder, relative to the output root.
    public var output: String
    public var subtitles: [Subtitle]
    /// Rungs as written in the job (`"720p"`, `"720p@2800k"`), or the one entry `"auto"` (on the
    /// wire also the string `"auto"`); nil means the worker's default ladder.
    public var ladder: [String]?
    /// Seconds, within `EncodingDefaults.segmentDurations`; nil means the worker's default.
    public var segmentDuration: Double?
    /// `"fmp4"` or `"ts"` on the wire; nil means the worker's default.
    public var segmentFormat: SegmentFormat?
    /// x264 preset, one of `X264Preset`'s names; nil means the worker's `--preset`. An extension
    /// of the DESIGN.md contract.
    public var preset: String?
    /// Write the output in place and publish playlists as segments complete (the engine's
    /// progressive mode), so players can start before the end; nil or false: the output appears
    /// all at once.
    public var progressive: Bool?
    /// Bits/s of an extra audio-only AAC variant (e.g. 64000) for students on networks too slow
    /// for the lowest video rung, within `EncodingDefaults.audioBitrates`; nil: none. An
    /// extension of the DESIGN.md contract.
    public var audioOnlyVariant: Int?
    /// Seconds of media per time chunk when the source is long enough to split (at least two
    /// chunks); 0 never splits; nil takes the worker's `--chunk-duration`.
    public var chunkDuration: Double?
    /// `"capped-crf"` or `"abr"` (`RateControl`); nil takes the worker's `--rate-control`.
    public var rateControl: RateControl?
    /// With capped CRF: one x264 CRF for every rung (`RungDefaults.acceptedCRFs`); nil: each rung's default.
    public var crf: Double?
    /// Measure each rendition's SSIM and PSNR into the report (`TranscodeOptions.measureQuality`).
    public var measureQuality: Bool?
    /// Keep rungs their lower neighbour makes redundant (`TranscodeOptions.keepRedundantRungs`).
    public var keepRedundantRungs: Bool?
    /// Loudness normalisation: a target in LUFS (`-16`) or `"off"` on the wire; nil: the default
    /// (`LoudnessNormalization.defaultTarget`).
    public var loudness: Loudness?
    /// Write the seek-bar thumbnails (`TranscodeOptions.storyboard`); nil or true: yes.
    public var storyboard: Bool?
    /// Write `poster.jpg` (`TranscodeOptions.poster`); nil or true: yes.
    public var poster: Bool?
    /// A chapters file under the input root (WebVTT chapters or a JSON list; `TranscodeOptions.chapters`).
    /// A job with chapters is transcoded whole, never split.
    public var chapters: String?
    /// Dubbed tracks (`TranscodeOptions.audioFiles`); a job with any is transcoded whole.
    public var audio: [AudioFile]
    /// Audio descriptions (narration of what is on screen; CHARACTERISTICS
    /// "public.accessibility.describes-video"); a job with any is transcoded whole.
    public var audioDescription: [AudioFile]
    /// Cut the holes in the video's timestamps out of the timeline (`TranscodeOptions.collapseGaps`);
    /// nil or false: a hole keeps its length and shows the picture before it. A job with it is
    /// transcoded whole, never split.
    public var collapseGaps: Bool?

    public init(jobId: String, input: String, output: String, subtitles: [Subtitle] = [], ladder: [String]? = nil,
                segmentDuration: Double? = nil, segmentFormat: SegmentFormat? = nil, preset: String? = nil,
                progressive: Bool? = nil, audioOnlyVariant: Int? = nil, chunkDuration: Double? = nil,
                rateControl: RateControl? = nil, crf: Double? = nil, measureQuality: Bool? = nil,
                keepRedundantRungs: Bool? = nil, storyboard: Bool? = nil, poster: Bool? = nil, chapters: String? = nil,
                loudness: Loudness? = nil, audio: [AudioFile] = [], audioDescription: [AudioFile] = [], collapseGaps: Bool? = nil) {
        self.collapseGaps = collapseGaps
        self.jobId = jobId
        self.input = input
        self.output = output
        self.subtitles = subtitles
        self.ladder = ladder
        self.segmentDuration = segmentDuration
        self.segmentFormat = segmentFormat
        self.preset = preset
        self.progressive = progressive
        self.audioOnlyVariant = audioOnlyVariant
        self.chunkDuration = chunkDuration
        self.rateControl = rateControl
        self.crf = crf
        self.measureQuality = measureQuality
        self.keepRedundantRungs = keepRedundantRungs
        self.storyboard = storyboard
        self.poster = poster
        self.chapters = chapters
        self.loudness = loudness
        self.audio = audio
        self.audioDescription = audioDescription
    }

    /// A job's `loudness`: a target in LUFS, or off.
    public enum Loudness: Sendable, Equatable, Codable {
        case target(Double)
        case off

        /// The engine's `TranscodeOptions.loudness`.
        public var target: Double? {
            if case .target(let value) = self { return value }
            return nil
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                guard text == "off" else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a number of LUFS or \"off\", got \(JobDecoder.quoted(text))")
                }
                self = .off
            } else {
                self = .target(try container.decode(Double.self))
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .target(let value): try container.encode(value)
            case .off: try container.encode("off")
            }
        }
    }

    /// The ladder (rungs largest first, or `auto`); nil when the job names none.
    /// - Throws: `LadderError` for a rung the engine does not know (checked already by `JobDecoder`).
    public func rungs() throws -> Ladder? {
        guard let ladder else { return nil }
        return try Ladder(parsing: ladder.joined(separator: ","))
    }

    /// The message body: compact JSON with sorted keys, absent optionals left out.
    public func jsonBody() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and arrays cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case jobId, input, output, subtitles, ladder, segmentDuration, segmentFormat, preset, progressive, audioOnlyVariant
        case chunkDuration, rateControl, crf, measureQuality, keepRedundantRungs, storyboard, poster, chapters, loudness
        case audio, audioDescription, collapseGaps
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobId, forKey: .jobId)
        try container.encode(input, forKey: .input)
        try container.encode(output, forKey: .output)
        if !subtitles.isEmpty { try container.encode(subtitles, forKey: .subtitles) }
        try container.encodeIfPresent(ladder, forKey: .ladder)
        try container.encodeIfPresent(segmentDuration, forKey: .segmentDuration)
        try container.encodeIfPresent(segmentFormat, forKey: .segmentFormat)
        try container.encodeIfPresent(preset, forKey: .preset)
        try container.encodeIfPresent(progressive, forKey: .progressive)
        try container.encodeIfPresent(audioOnlyVariant, forKey: .audioOnlyVariant)
        try container.encodeIfPresent(chunkDuration, forKey: .chunkDuration)
        try container.encodeIfPresent(rateControl, forKey: .rateControl)
        try container.encodeIfPresent(crf, forKey: .crf)
        try container.encodeIfPresent(measureQuality, forKey: .measureQuality)
        try container.encodeIfPresent(keepRedundantRungs, forKey: .keepRedundantRungs)
        try container.encodeIfPresent(storyboard, forKey: .storyboard)
        try container.encodeIfPresent(poster, forKey: .poster)
        try container.encodeIfPresent(chapters, forKey: .chapters)
        try container.encodeIfPresent(loudness, forKey: .loudness)
        if !audio.isEmpty { try container.encode(audio, forKey: .audio) }
        if !audioDescription.isEmpty { try container.encode(audioDescription, forKey: .audioDescription) }
        try container.encodeIfPresent(collapseGaps, forKey: .collapseGaps)
    }
}
