/// What a finished transcode made: the JSON report of the command line, field for field.
public struct TranscodeReport: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var frameRate: Double
        /// Frames in the source as its container declares them (0 when it does not say).
        public var videoFrames: Int
        public var displayWidth: Int
        public var displayHeight: Int
        public var rotation: Int
        public var container: String
        public var videoCodec: String
    }

    public struct EncoderInfo: Codable, Sendable, Equatable {
        public var codec: String
        public var preset: String
        public var profile: String
        public var level: String
        public var bitrate: Int
        public var maxrate: Int
        public var bufsize: Int
        public var gop: Int
        /// x264 threads; with `slicedThreads` they encode slices of one frame, else whole frames.
        public var threads: Int
        public var slicedThreads: Bool
        /// `RateControl`'s name: "abr" (bitrate is the target) or "capped-crf" (bitrate is the
        /// nominal one the cap derives from).
        public var rateControl: String
        /// x264's constant rate factor with "capped-crf"; absent with "abr".
        public var crf: Double?
    }

    /// SSIM and PSNR of a rendition (`TranscodeOptions.measureQuality`).
    public typealias Quality = PictureQuality

    /// A rung its lower neighbour made redundant (`RedundantRungs`): dropped, or kept and why.
    public typealias RedundantRung = RedundantRungOutcome

    public struct Rendition: Codable, Sendable, Equatable {
        public var name: String
        public var width: Int
        public var height: Int
        public var codecs: String
        public var playlist: String
        public var segments: Int
        public var bytes: Int
        public var peakBandwidth: Int
        public var averageBandwidth: Int
        public var encodedFrames: Int
        public var encoder: EncoderInfo
        /// The rendition's I-frame playlist; absent when it could not be made.
        public var iFrames: IFramePlaylist?
        /// SSIM and PSNR against the source, with `--measure-quality`; absent otherwise.
        public var quality: Quality?
    }

    /// An I-frame playlist (EXT-X-I-FRAMES-ONLY) of a video rendition.
    public struct IFramePlaylist: Codable, Sendable, Equatable {
        /// Relative to the output folder: "720p/iframes.m3u8".
        public var playlist: String
        public var iFrames: Int
        public var peakBandwidth: Int
        public var averageBandwidth: Int
    }

    /// Loudness normalisation of an audio rendition (`TranscodeOptions.loudness`).
    public typealias AudioLoudness = LoudnessOutcome

    public struct Audio: Codable, Sendable, Equatable {
        /// Loudness normalisation; nil with `--loudness off`.
        public var loudness: AudioLoudness?
        public var codec: String
        public var bitrate: Int
        public var channels: Int
        public var sampleRate: Int
        public var language: String
        public var playlist: String
        public var segments: Int
        public var bytes: Int
        public var peakBandwidth: Int
        public var averageBandwidth: Int
        /// In the audio group: NAME, DEFAULT, and whether it describes the video; where it came
        /// from ("stream N" of the source, or the file's path). nil for an audio-only variant.
        public var name: String?
        public var isDefault: Bool?
        public var describesVideo: Bool?
        public var from: String?
    }

    public struct Subtitles: Codable, Sendable, Equatable {
        public var language: String
        public var cues: Int
    }

    public var input: String
    public var output: String
    public var master: String
    public var segmentFormat: String
    public var segmentDuration: Double
    public var durationSeconds: Double
    public var elapsedSeconds: Double
    public var source: Source
    public var decodedVideoFrames: Int
    public var renditions: [Rendition]
    /// The main audio: the group every video variant plays with, or an audio-only source's variant.
    public var audio: Audio?
    /// Every rendition of the audio group, the default (`audio`) first: the source's other audio
    /// streams, then the added files (`TranscodeOptions.audioFiles`). Empty for an audio-only source.
    public var audioTracks: [Audio] = []
    /// The low-bandwidth audio-only variant (`TranscodeOptions.audioOnlyVariantBitrate`), or nil.
    public var audioOnlyVariant: Audio?
    public var subtitles: [Subtitles]
    public var warnings: [String]
    /// Whether this run resumed an earlier one's committed segments (`TranscodeOptions.resume`).
    public var resume = ResumeStatus()
    /// A set stitched from time chunks (`ChunkedTranscode.stitch`): how it was split; nil otherwise.
    public var chunks: Chunks?
    /// Rungs found redundant by their measured bytes: dropped from the set (not in `renditions`)
    /// or kept with the reason.
    public var redundantRungs: [RedundantRung] = []
    /// The seek-bar thumbnails (`TranscodeOptions.storyboard`); nil when none were made.
    public var storyboard: Storyboard?
    /// The poster picture (`TranscodeOptions.poster`); nil when none was made.
    public var poster: Poster?
    /// The chapters written (`TranscodeOptions.chapters`); nil without.
    public var chapters: Chapters?

    /// `chapters.vtt` and Apple's `chapters.json`, relative to the output folder.
    public struct Chapters: Codable, Sendable, Equatable {
        public var vtt: String
        public var json: String
        public var count: Int
    }

    /// The WebVTT thumbnails track and its sprite sheets (`StoryboardLayout`).
    public struct Storyboard: Codable, Sendable, Equatable {
        /// Relative to the output folder: "storyboard/storyboard.vtt".
        public var vtt: String
        /// Seconds between tiles.
        public var intervalSeconds: Double
        public var tiles: Int
        public var tileWidth: Int
        public var tileHeight: Int
        /// Tiles per row of a sheet (10 rows at most per sheet).
        public var columns: Int
        /// The JPEG sheets, relative to the output folder, in tile order.
        public var sheets: [String]
    }

    /// A representative picture at the top rung's display size (`PosterChoice`).
    public struct Poster: Codable, Sendable, Equatable {
        /// Relative to the output folder: "poster.jpg".
        public var file: String
        public var width: Int
        public var height: Int
        /// Where on the output timeline the picture is shown, seconds.
        public var timeSeconds: Double
    }

    /// How a stitched set was split.
    public struct Chunks: Codable, Sendable, Equatable {
        public var videoChunks: Int
        public var chunkSegments: Int
        /// Wall seconds each chunk took to encode, in chunk order (the audio last), and who encoded it.
        public var encodeSeconds: [Double]
        public var workers: [String]
    }

    private enum CodingKeys: String, CodingKey {
        case input, output, master, segmentFormat, segmentDuration, durationSeconds, elapsedSeconds
        case source, decodedVideoFrames, renditions, audio, audioTracks, audioOnlyVariant, subtitles, warnings, resume, chunks
        case redundantRungs, storyboard, poster, chapters
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(input, forKey: .input)
        try container.encode(output, forKey: .output)
        try container.encode(master, forKey: .master)
        try container.encode(segmentFormat, forKey: .segmentFormat)
        try container.encode(segmentDuration, forKey: .segmentDuration)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
        try container.encode(source, forKey: .source)
        try container.encode(decodedVideoFrames, forKey: .decodedVideoFrames)
        try container.encode(renditions, forKey: .renditions)
        try container.encode(audio, forKey: .audio)  // null, not absent, when there is no audio
        try container.encode(audioTracks, forKey: .audioTracks)
        try container.encode(audioOnlyVariant, forKey: .audioOnlyVariant)
        try container.encode(subtitles, forKey: .subtitles)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(resume, forKey: .resume)
        try container.encodeIfPresent(chunks, forKey: .chunks)
        try container.encode(redundantRungs, forKey: .redundantRungs)
        try container.encode(storyboard, forKey: .storyboard)  // null when none was made
        try container.encode(poster, forKey: .poster)
        try container.encode(chapters, forKey: .chapters)
    }
}
