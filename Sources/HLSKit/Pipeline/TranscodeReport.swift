/// What a finished transcode made: the JSON report of the command line, field for field.
public struct TranscodeReport: Codable, Sendable, Equatable {
    /// The source's video as its container and stream headers describe it (all zero, with
    /// `videoCodec` "none", for a source without video).
    public struct Source: Codable, Sendable, Equatable {
        /// Coded picture width in pixels, before rotation and non-square pixels are applied.
        public var width: Int
        /// Coded picture height in pixels.
        public var height: Int
        /// Average frame rate the stream declares, frames per second (0 without video).
        public var frameRate: Double
        /// Frames in the source as its container declares them (0 when it does not say).
        public var videoFrames: Int
        /// Width of the picture as shown (after rotation and the sample aspect ratio), in pixels.
        public var displayWidth: Int
        /// Height of the picture as shown, in pixels.
        public var displayHeight: Int
        /// Clockwise degrees (0, 90, 180, 270) the decoded picture turns to be shown upright (the
        /// container's display matrix).
        public var rotation: Int
        /// The libavformat demuxer that read it, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
        public var container: String
        /// The libavcodec name of the video codec, e.g. "h264", "hevc", "vp9"; "none" without video.
        public var videoCodec: String
    }

    /// How a video rendition was encoded: the x264 settings, and the profile and level read back
    /// from what was written.
    public struct EncoderInfo: Codable, Sendable, Equatable {
        /// Always "h264" (libx264).
        public var codec: String
        /// x264 preset, e.g. "veryfast" (``TranscodeOptions/preset``).
        public var preset: String
        /// H.264 profile of the written stream, e.g. "high" ("constrained baseline" with
        /// `ultrafast`).
        public var profile: String
        /// H.264 level of the written stream, e.g. "4.0".
        public var level: String
        /// The rung's bitrate in bits/s: the target with "abr", the nominal one the cap derives
        /// from with "capped-crf".
        public var bitrate: Int
        /// VBV peak bitrate in bits/s (1.1 × `bitrate`, rounded).
        public var maxrate: Int
        /// VBV buffer size in bits (2 × `bitrate`: two seconds of it).
        public var bufsize: Int
        /// Most frames from one keyframe to the next (x264's keyint): 2 s of frames, or the
        /// segment duration when shorter.
        public var gop: Int
        /// x264 threads; with `slicedThreads` they encode slices of one frame, else whole frames.
        public var threads: Int
        /// True when the x264 threads encode slices of one frame (the heaviest rung when the
        /// engine's threads outnumber the cores, see `CoreShares`), false for frame threads.
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

    /// A video rendition (one rung of the ladder) as written.
    public struct Rendition: Codable, Sendable, Equatable {
        /// The rung's name, which is also its folder: "720p".
        public var name: String
        /// Picture width in pixels (square pixels, upright).
        public var width: Int
        /// Picture height in pixels.
        public var height: Int
        /// The video's codec string, read from the written stream: "avc1.64001f" (the variant's
        /// CODECS adds the audio's "mp4a.40.2").
        public var codecs: String
        /// The media playlist, relative to the output folder: "720p/index.m3u8".
        public var playlist: String
        /// Segment files written.
        public var segments: Int
        /// Bytes of its segment files (the init section not counted).
        public var bytes: Int
        /// Peak bit rate of its segments over RFC 8216's windows (0.5–1.5 × the target
        /// duration), bits/s; the variant's BANDWIDTH adds the audio group's largest.
        public var peakBandwidth: Int
        /// Its segments' bits over their duration, bits/s; the variant's AVERAGE-BANDWIDTH adds
        /// the audio's.
        public var averageBandwidth: Int
        /// Frames in the rendition, frames kept from a resumed run included.
        public var encodedFrames: Int
        /// The encoder's settings for this rung.
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
        /// Entries in the playlist: one per keyframe (segment starts and scene-cut IDRs).
        public var iFrames: Int
        /// Its BANDWIDTH in the master (EXT-X-I-FRAME-STREAM-INF), from the byte ranges over their
        /// durations, bits/s.
        public var peakBandwidth: Int
        /// Its AVERAGE-BANDWIDTH in the master, bits/s.
        public var averageBandwidth: Int
    }

    /// Loudness normalisation of an audio rendition (`TranscodeOptions.loudness`).
    public typealias AudioLoudness = LoudnessOutcome

    /// An audio rendition as written: a rendition of the audio group, or an audio-only variant.
    public struct Audio: Codable, Sendable, Equatable {
        /// Loudness normalisation; nil with `--loudness off`.
        public var loudness: AudioLoudness?
        /// Always "aac" (AAC-LC).
        public var codec: String
        /// AAC bitrate in bits/s (``TranscodeOptions/audioBitrate``, or
        /// ``TranscodeOptions/audioOnlyVariantBitrate`` for the audio-only variant).
        public var bitrate: Int
        /// Always 2 (stereo).
        public var channels: Int
        /// Samples per second: 48 000, or 44 100 for a 44.1 kHz source.
        public var sampleRate: Int
        /// BCP 47 tag of the track (`und` when the source does not say).
        public var language: String
        /// The media playlist, relative to the output folder: "audio/index.m3u8".
        public var playlist: String
        /// Segment files written.
        public var segments: Int
        /// Bytes of its segment files (the init section not counted).
        public var bytes: Int
        /// Peak bit rate of its segments over RFC 8216's windows, bits/s.
        public var peakBandwidth: Int
        /// Its segments' bits over their duration, bits/s.
        public var averageBandwidth: Int
        /// In the audio group: NAME, DEFAULT, and whether it describes the video; where it came
        /// from ("stream N" of the source, or the file's path). nil for an audio-only variant.
        public var name: String?
        /// DEFAULT=YES in the audio group (the source's default stream); nil for an audio-only variant.
        public var isDefault: Bool?
        /// The track is an audio description (CHARACTERISTICS="public.accessibility.describes-video");
        /// nil for an audio-only variant.
        public var describesVideo: Bool?
        /// Where the track came from: "stream N" of the source, or the added file's path; nil for
        /// an audio-only variant.
        public var from: String?
    }

    /// A subtitle rendition as written (``TranscodeOptions/subtitles``).
    public struct Subtitles: Codable, Sendable, Equatable {
        /// BCP 47 tag, as given in the ``SubtitleTrack``.
        public var language: String
        /// Cues published (after the SRT was parsed and cleaned).
        public var cues: Int
    }

    /// The input path as given to the engine.
    public var input: String
    /// The output folder's path (the final one, not the staging folder).
    public var output: String
    /// The master playlist, relative to `output`: "master.m3u8".
    public var master: String
    /// `SegmentFormat`'s raw value: "fmp4" or "ts".
    public var segmentFormat: String
    /// Target segment duration in seconds (``TranscodeOptions/segmentDuration``).
    public var segmentDuration: Double
    /// Seconds of media in the output: the written timeline's length (the video's, for a source
    /// with video).
    public var durationSeconds: Double
    /// Wall-clock seconds the transcode took (for a stitched set, from the plan to the end of the
    /// stitch).
    public var elapsedSeconds: Double
    /// What the source is (``Source-swift.struct``).
    public var source: Source
    /// Video frames this run decoded (a resumed run does not count what it skipped before the
    /// pre-roll; 0 for a stitched set).
    public var decodedVideoFrames: Int
    /// The video renditions written, largest first (rungs dropped as redundant not included);
    /// empty for an audio-only source.
    public var renditions: [Rendition]
    /// The main audio: the group every video variant plays with, or an audio-only source's variant.
    public var audio: Audio?
    /// Every rendition of the audio group, the default (`audio`) first: the source's other audio
    /// streams, then the added files (`TranscodeOptions.audioFiles`). Empty for an audio-only source.
    public var audioTracks: [Audio] = []
    /// The low-bandwidth audio-only variant (`TranscodeOptions.audioOnlyVariantBitrate`), or nil.
    public var audioOnlyVariant: Audio?
    /// The subtitle renditions, in the order of ``TranscodeOptions/subtitles``.
    public var subtitles: [Subtitles]
    /// What the engine changed or could not do, one sentence each (deinterlaced, frame rate
    /// limited, a rung dropped, a cue skipped, a resume started afresh…). The command line prints
    /// them as `hlsify: warning: …`.
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
    /// Holes in the source's video timestamps (shown as the picture before them) and jumps back
    /// (closed up); empty lists when there were none. nil for a stitched set (its chunks' own
    /// reports tell it).
    public var sourceTimeline: SourceTimeline?
    /// How the engine's thread weights ran (``TranscodeOptions/weightsThreads``); nil for a stitched set.
    public var threadWeights: ThreadWeights?

    /// The engine's thread weights over the run: `mode` "always", "adaptive" (on only while the
    /// machine was otherwise quiet) or "never" (off, or none planned: more cores than threads);
    /// how many seconds they were on and off from the first frame, and how often they changed.
    public struct ThreadWeights: Codable, Sendable, Equatable {
        public var mode: String
        public var weightedSeconds: Double
        public var unweightedSeconds: Double
        public var changes: Int
    }

    /// `chapters.vtt` and Apple's `chapters.json`, relative to the output folder.
    public struct Chapters: Codable, Sendable, Equatable {
        /// The WebVTT chapters track: "chapters.vtt".
        public var vtt: String
        /// Apple's `com.apple.hls.chapters` file, named by the master: "chapters.json".
        public var json: String
        /// Chapters written.
        public var count: Int
    }

    /// The WebVTT thumbnails track and its sprite sheets (`StoryboardLayout`).
    public struct Storyboard: Codable, Sendable, Equatable {
        /// Relative to the output folder: "storyboard/storyboard.vtt".
        public var vtt: String
        /// Seconds between tiles.
        public var intervalSeconds: Double
        /// Tiles (thumbnails) in all, one per interval.
        public var tiles: Int
        /// Width of one tile in pixels (160).
        public var tileWidth: Int
        /// Height of one tile in pixels (the picture's display aspect).
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
        /// Width in pixels.
        public var width: Int
        /// Height in pixels.
        public var height: Int
        /// Where on the output timeline the picture is shown, seconds.
        public var timeSeconds: Double
    }

    /// How a stitched set was split.
    public struct Chunks: Codable, Sendable, Equatable {
        /// How many video chunks (the audio chunk not counted).
        public var videoChunks: Int
        /// Segments per video chunk (the last may hold fewer).
        public var chunkSegments: Int
        /// Wall seconds each chunk took to encode, in chunk order (the audio last), and who encoded it.
        public var encodeSeconds: [Double]
        /// Who encoded each chunk (the `worker` given to `encode`, "" when none was), in the order
        /// of `encodeSeconds`.
        public var workers: [String]
    }

    private enum CodingKeys: String, CodingKey {
        case input, output, master, segmentFormat, segmentDuration, durationSeconds, elapsedSeconds
        case source, decodedVideoFrames, renditions, audio, audioTracks, audioOnlyVariant, subtitles, warnings, resume, chunks
        case redundantRungs, storyboard, poster, chapters, sourceTimeline, threadWeights
    }

    /// Encodes the report as the command line's `--json` prints it: `audio`, `audioOnlyVariant`,
    /// `storyboard`, `poster` and `chapters` are `null` when absent, `chunks` only for a stitched set.
    /// - Parameter encoder: the encoder to write to.
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
        try container.encode(sourceTimeline, forKey: .sourceTimeline)
        try container.encode(threadWeights, forKey: .threadWeights)  // null for a stitched set
    }
}
