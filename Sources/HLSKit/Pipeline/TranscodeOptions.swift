/// What to make of a source: the ladder, the segmenting, the encoder settings.
public struct TranscodeOptions: Sendable {
    /// Rungs to produce, named by the short side (rungs above the source are dropped), or `auto`.
    public var ladder: Ladder = EncodingDefaults.ladder
    /// Average bitrate or capped constant quality (`RateControl`).
    public var rateControl: RateControl = EncodingDefaults.rateControl
    /// With `.cappedCRF`: one x264 CRF for every rung instead of each rung's `RungDefaults.crf`.
    public var crf: Double?
    /// Keep a rung whose lower neighbour came out within 10% of its bytes (`RedundantRungs`);
    /// by default such a rung is dropped from a staged output and the report says so.
    public var keepRedundantRungs: Bool = false
    /// Measure each video rendition's SSIM and PSNR against the source scaled to its size, by
    /// decoding what was encoded (the report's `quality`). Costs an H.264 decode and an SSIM pass
    /// per rendition (see README).
    public var measureQuality: Bool = false
    /// Target segment duration in seconds (boundaries at multiples of it from the first video frame).
    public var segmentDuration: Double = EncodingDefaults.segmentDuration
    /// fMP4 (default) or MPEG-TS segments.
    public var segmentFormat: SegmentFormat = EncodingDefaults.segmentFormat
    /// x264 preset, one of `X264Preset`'s names.
    public var preset: String = EncodingDefaults.preset.rawValue
    /// AAC-LC stereo bitrate in bits/s.
    public var audioBitrate: Int = EncodingDefaults.audioBitrate
    /// When set, an extra audio-only variant (AAC-LC stereo at this bitrate, bits/s, e.g. 64 000)
    /// is listed in the master for students whose network cannot hold the lowest video rung.
    /// An audio-only source's own rendition is always an audio-only variant.
    public var audioOnlyVariantBitrate: Int?
    /// Write seek-bar thumbnails: `storyboard/storyboard.vtt` (a WebVTT thumbnails track) and its
    /// JPEG sprite sheets, from the pictures already decoded (`StoryboardLayout`). Not made by
    /// the parts of a split transcode.
    public var storyboard: Bool = true
    /// Write `poster.jpg` at the top rung's size: the picture with the most detail between 2% and
    /// 90% of the source (`PosterChoice`). Not made by the parts of a split transcode.
    public var poster: Bool = true
    /// A chapters file (a WebVTT chapters track, or a JSON list of `{"start", "title"}`; see
    /// `ChapterFile`), checked against the source's duration and written as `chapters.vtt` and
    /// `chapters.json` (Apple's chapters, named by the master's EXT-X-SESSION-DATA). Not taken by
    /// split transcodes.
    public var chapters: String?
    /// Integrated loudness every audio rendition is normalised to (EBU R128, LUFS), with the true
    /// peak held at or under −1 dBTP (`LoudnessNormalization`); nil leaves the level as recorded.
    /// Costs a measuring pass over the audio before the transcode (seconds for an hour).
    public var loudness: Double? = LoudnessNormalization.defaultTarget
    /// Audio files added as renditions of the audio group beside every audio stream of the source
    /// (dubbed tracks and audio descriptions), each encoded once on the video's timeline. Not
    /// taken by split transcodes; an audio-only source takes none.
    public var audioFiles: [AudioTrackFile] = []
    /// SRT files published as subtitle renditions (the first is the default).
    public var subtitles: [SubtitleTrack] = []
    /// Write in place and publish playlists as segments complete (EVENT playlists, finished by
    /// appending their last segments and ENDLIST: RFC 8216 §6.2.1), so players can start after
    /// the first segment. Without it the output is staged and appears all at once.
    public var progressive: Bool = false
    /// Cut the holes in the video's timestamps out of the timeline (a recorder paused for the
    /// break) instead of showing the picture before each for as long as it lasts: everything
    /// after a hole moves back by its length (audio, alternate tracks, subtitles and chapters
    /// with it) and what the other streams have inside it is left out. Costs a demux-only pass
    /// over the file before the transcode. Not taken by split transcodes.
    public var collapseGaps: Bool = false
    /// What an input may be: containers, picture size, duration, streams, time.
    public var limits = InputLimits()
    /// Replace an existing output folder.
    public var overwrite: Bool = false
    /// Frames queued per rendition between the decoder and its encoder (memory bound).
    public var queueCapacity: Int = 4
    /// x264 threads per rendition; nil chooses from the core count and each rung's share of the
    /// pixels (`CoreShares`).
    public var encoderThreads: Int?
    /// Video decoder threads; nil chooses from the core count (decoding is about 15% of the work).
    public var decoderThreads: Int?
    /// When the engine's threads outnumber the cores, lower the priority (nice) of the lighter
    /// rungs' threads and the decoder's so the heaviest rung keeps a core (`CoreShares`). Only
    /// threads the engine starts for this transcode are touched. Ignored with `encoderThreads`.
    public var weightsThreads: Bool = true
    /// With `weightsThreads`: the weights are on only while other processes leave the machine
    /// quiet (under a quarter of a core busy; off again from half a core), read from /proc once
    /// a second, so that against another busy process the transcode as a whole is not the one
    /// that yields (`ThreadWeights`). false: always on while the transcode runs (as before).
    public var weightsOnlyWhenQuiet: Bool = true

    /// Resume from a staging folder a dead run left for this output when its plan matches this
    /// run's source, settings and engine (`hlsify --no-resume` turns it off): the segments it
    /// committed are kept, the video is encoded again from the first segment missing in any
    /// rendition (after `resumePreRollSeconds` of pre-roll, dropped), the audio from the start
    /// (checked to come out the same). Every staged run (with or without `resume`) journals its
    /// committed segments for this, and keeps its staging folder when it fails in a way a later
    /// run may get past (an I/O error such as a full disk). Progressive (in place) runs and
    /// audio-only sources are not journaled.
    public var resume: Bool = true
    /// Seconds of video before the resume point fed through the whole chain and dropped, so that
    /// x264's rate control enters the first resumed segment close to where a run without the
    /// interruption had it (see Benchmarks/RESULTS.md for how it was chosen).
    public var resumePreRollSeconds: Double = EncodingDefaults.resumePreRollSeconds
    /// The caller guarantees that no other process writes beside the output (it holds a lock for
    /// it, as the worker does): staging folders found there are taken as left by dead runs,
    /// whichever process made them, and a cancelled run keeps its staging for the next holder.
    public var ownsOutputSlot: Bool = false

    /// Told once, before anything is decoded, whether this run resumes and from where.
    public var onStart: (@Sendable (ResumeStatus) -> Void)?

    /// Called (from an encoder thread) each time a segment file of any rendition is complete.
    public var onSegment: (@Sendable (SegmentEvent) -> Void)?

    /// The defaults: the command line's and the worker's (`EncodingDefaults`): the `auto` ladder
    /// at capped constant quality, 4 s fMP4 segments, `veryfast`, AAC at 128 kb/s, loudness
    /// normalised to -16 LUFS, storyboard and poster, staged output with crash-resume.
    public init() {}
}

/// A finished segment file, for progressive players and job events.
public struct SegmentEvent: Sendable, Equatable, Codable {
    /// Rendition folder name: `720p`, `audio`.
    public var rendition: String
    /// 0-based segment number.
    public var index: Int
    /// Path relative to the output folder, e.g. `720p/segment-00003.m4s`.
    public var path: String
    /// Bytes in the file.
    public var bytes: Int
    /// Start on the presentation timeline, seconds from the first video frame.
    public var startTime: Double
}

/// A snapshot of a running transcode.
public struct TranscodeProgress: Sendable, Equatable {
    /// 0…1 of the source duration decoded so far.
    public var fraction: Double
    /// Source seconds decoded so far.
    public var mediaSeconds: Double
    /// Wall seconds since the start.
    public var elapsedSeconds: Double
    /// Decoded video frames per wall second.
    public var framesPerSecond: Double
    /// Media seconds per wall second.
    public var speed: Double
    /// Estimated wall seconds left, when it can be estimated.
    public var etaSeconds: Double?
}

extension SegmentEvent {
    /// The event for the just-closed segment `index` of the rendition in `folder`, as `log` saw it.
    init(folder: String, index: Int, file: String, bytes: Int, log: SegmentLog) {
        self.init(rendition: folder, index: index, path: "\(folder)/\(file)", bytes: bytes,
                  startTime: log.startTime(of: index) ?? 0)
    }
}

/// Whether a transcode resumed an earlier run's work, and how much of it (the report's `resume`).
public struct ResumeStatus: Sendable, Equatable, Codable {
    /// True when the run took up a staging folder a dead run left and kept its committed segments.
    public var resumed: Bool
    /// First segment index the video was encoded again from (0 when not resumed).
    public var fromSegment: Int
    /// Segment files kept from the earlier run, every rendition counted.
    public var segmentsReused: Int
    /// Segment files this run wrote, every rendition counted (audio segments found equal to the
    /// kept ones not included).
    public var segmentsEncoded: Int
    /// Video before `fromSegment` decoded and encoded only to prime the encoders, then dropped:
    /// seconds from the first decoded frame to the resume point, and frames (of the rendition that
    /// dropped most; renditions that were ahead encode through their kept segments too).
    public var preRollSeconds: Double
    /// Video frames of the pre-roll dropped, in the rendition that dropped most (see
    /// `preRollSeconds`; 0 when not resumed).
    public var preRollFrames: Int

    /// A status with every field given; the defaults are a run that did not resume.
    public init(resumed: Bool = false, fromSegment: Int = 0, segmentsReused: Int = 0, segmentsEncoded: Int = 0,
                preRollSeconds: Double = 0, preRollFrames: Int = 0) {
        self.resumed = resumed
        self.fromSegment = fromSegment
        self.segmentsReused = segmentsReused
        self.segmentsEncoded = segmentsEncoded
        self.preRollSeconds = preRollSeconds
        self.preRollFrames = preRollFrames
    }
}
