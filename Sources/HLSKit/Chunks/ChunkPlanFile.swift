import Foundation

/// A split transcode's plan (`plan.json` in the work folder), written once by `ChunkedTranscode.plan`:
/// the resume plan (engine, source fingerprint, every setting that decides the bytes, the
/// timeline's origin, each rung's pinned threading), the split, and what the stitch needs to write
/// the playlists and the report without opening the source.
struct ChunkPlanFile: Codable, Equatable {
    /// 2: plans record rate control, `auto` ladders, measureQuality and keepRedundantRungs.
    /// 3: and the loudness target (the audio part normalises with it).
    static let formatVersion = 3
    static let fileName = "plan.json"

    var formatVersion: Int
    /// Random; every manifest names the plan it was encoded under.
    var id: String
    var layout: ChunkLayout
    /// The chunk duration asked for, seconds (a plan is reused only for the same).
    var chunkDuration: Double
    /// The container's duration when planned (the last chunk runs to the real end whatever it is).
    var durationSeconds: Double?
    var resume: ResumePlan
    var preRollSeconds: Double
    var maxDuration: Double
    var maxDimension: Int
    /// `TranscodeOptions.measureQuality` and `keepRedundantRungs` (nil in older plans: off).
    var measureQuality: Bool?
    var keepRedundantRungs: Bool?
    /// Subtitle files copied into the work folder (`subtitles/N.srt`).
    var subtitles: [Subtitle]
    /// Source time of the timeline's origin from the container's start (where SRT times count from).
    var videoStartInSource: Double
    /// The source runs over 60 fps: frames are dropped, so the renditions' frames are fewer than the source's.
    var decimated: Bool
    /// FRAME-RATE of the master's variants.
    var frameRate: Double
    /// The report's values known before encoding; the stitch adds what it measures.
    var report: ReportTemplate
    /// When the plan was made, seconds since 1970: a stitched set's `elapsedSeconds` runs from it.
    var plannedAt: Double

    struct Subtitle: Codable, Equatable {
        var language: String
        var name: String?
        var file: String
    }

    struct PlannedVideo: Codable, Equatable {
        var report: TranscodeReport.Rendition
        var videoRange: VideoRange
        var level: String
    }

    struct ReportTemplate: Codable, Equatable {
        var input: String
        var source: TranscodeReport.Source
        var videos: [PlannedVideo]
        /// The main audio (nil when the source has none) and the low-bandwidth audio-only variant.
        var audio: TranscodeReport.Audio?
        var audioOnlyVariant: TranscodeReport.Audio?
        var warnings: [String]
    }

    /// The options every part encodes with: the plan's settings, nothing from the command line.
    /// - Throws: `ChunkError.mismatch` when the plan's settings cannot be read back.
    func options() throws -> TranscodeOptions {
        var options = TranscodeOptions()
        let settings = resume.settings
        do {
            options.ladder = try Ladder(parsing: settings.ladder.joined(separator: ","))
        } catch {
            throw ChunkError.mismatch("the plan's ladder cannot be read: \(error)")
        }
        guard let format = SegmentFormat(rawValue: settings.segmentFormat) else {
            throw ChunkError.mismatch("the plan's segment format '\(settings.segmentFormat)' is unknown")
        }
        guard let rateControl = RateControl(rawValue: settings.rateControl ?? RateControl.abr.rawValue) else {
            throw ChunkError.mismatch("the plan's rate control '\(settings.rateControl ?? "")' is unknown")
        }
        options.rateControl = rateControl
        options.crf = settings.crf
        options.loudness = settings.loudness
        options.measureQuality = measureQuality ?? false
        options.keepRedundantRungs = keepRedundantRungs ?? false
        options.segmentDuration = settings.segmentDuration
        options.segmentFormat = format
        options.preset = settings.preset
        options.audioBitrate = settings.audioBitrate
        options.audioOnlyVariantBitrate = settings.audioOnlyVariantBitrate
        options.resumePreRollSeconds = preRollSeconds
        options.limits.maxDuration = maxDuration
        options.limits.maxDimension = maxDimension
        options.resume = false
        return options
    }
}

extension ChunkPlanFile {
    /// The report's values a plan knows: the source, each rung's encoder settings, the audio.
    static func reportTemplate(input: String, opened: TranscodePipeline.Opened, timeline: DecodeLoop.PlannedTimeline,
                               options: TranscodeOptions) -> ReportTemplate {
        let source = opened.source
        let gop = VideoRendition.gop(frameRate: source.outputFrameRate, segmentDuration: options.segmentDuration)
        let videos = zip(opened.plans, timeline.renditions).map { plan, pinned in
            PlannedVideo(
                report: TranscodeReport.Rendition(
                    name: plan.name, width: plan.width, height: plan.height, codecs: "", playlist: plan.name + "/" + PlaylistPublisher.mediaName,
                    segments: 0, bytes: 0, peakBandwidth: 0, averageBandwidth: 0, encodedFrames: 0,
                    encoder: .init(codec: "h264", preset: options.preset, profile: "", level: "",
                                   bitrate: plan.encoder.bitrate, maxrate: plan.encoder.maxrate, bufsize: plan.encoder.bufsize,
                                   gop: gop, threads: pinned.threads, slicedThreads: pinned.slicedThreads,
                                   rateControl: plan.encoder.rateControl.rawValue, crf: plan.encoder.crf),
                    iFrames: nil, quality: nil),
                videoRange: timeline.videoRange,
                level: String(format: "%d.%d", plan.h264Level / 10, plan.h264Level % 10))
        }
        func audio(folder: String, bitrate: Int) -> TranscodeReport.Audio {
            TranscodeReport.Audio(codec: "aac", bitrate: bitrate, channels: 2,
                                  sampleRate: AudioRendition.outputSampleRate(source: source.audioSampleRate),
                                  language: source.audioLanguage, playlist: folder + "/" + PlaylistPublisher.mediaName,
                                  segments: 0, bytes: 0, peakBandwidth: 0, averageBandwidth: 0)
        }
        let hasAudio = source.audioStream != nil
        // A split takes the main audio alone: the group's one rendition, labelled as a whole run labels it.
        var main = audio(folder: "audio", bitrate: options.audioBitrate)
        let label = AudioTrackLabels.labels([.init(language: source.audioLanguage, describesVideo: false)], defaultIndex: 0)[0]
        main.name = label.name
        main.isDefault = true
        main.describesVideo = false
        main.from = source.audioStream.map { "stream \($0)" }
        return ReportTemplate(
            input: input,
            source: .init(width: source.geometry.width, height: source.geometry.height, frameRate: source.frameRateValue,
                          videoFrames: source.declaredFrames, displayWidth: source.geometry.displayWidth,
                          displayHeight: source.geometry.displayHeight, rotation: source.geometry.rotation,
                          container: source.container, videoCodec: source.videoCodec),
            videos: videos,
            audio: hasAudio ? main : nil,
            audioOnlyVariant: hasAudio ? options.audioOnlyVariantBitrate.map {
                audio(folder: DecodeLoop.lowBandwidthAudioFolder(bitrate: $0), bitrate: $0)
            } : nil,
            warnings: opened.warnings)
    }
}
