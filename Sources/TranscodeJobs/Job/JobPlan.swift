import HLSCore

/// What the worker fills in when a job leaves a field out: `EncodingDefaults` unless the
/// worker's options say otherwise.
public struct JobDefaults: Sendable, Equatable {
    public var ladder: Ladder = EncodingDefaults.ladder
    public var rateControl: RateControl = EncodingDefaults.rateControl
    public var segmentDuration: Double = EncodingDefaults.segmentDuration
    public var segmentFormat: SegmentFormat = EncodingDefaults.segmentFormat
    public var preset: X264Preset = EncodingDefaults.preset
    /// Seconds of media per time chunk (`--chunk-duration`); 0 never splits.
    public var chunkDuration: Double = 240

    public init() {}
}

/// A job with its paths resolved under the roots and its defaults filled in: what the engine is
/// asked to do.
public struct JobPlan: Sendable, Equatable {
    public struct Subtitle: Sendable, Equatable {
        public var language: String
        public var name: String?
        /// Absolute path of the SRT file, links resolved.
        public var path: String
    }

    /// An added audio file: its language, whether it describes the video, and its absolute path (links resolved).
    public struct AudioFile: Sendable, Equatable {
        public var language: String
        public var describesVideo: Bool
        public var path: String
    }

    public var job: TranscodeJob
    /// Absolute input path, links resolved (when it exists).
    public var inputPath: String
    public var subtitles: [Subtitle]
    /// Absolute output folder path (its parent's links resolved).
    public var outputPath: String
    /// The output folder relative to the output root (after resolution): the key of its lock and work folder.
    public var outputKey: String
    public var ladder: Ladder
    public var rateControl: RateControl
    /// One CRF for every rung (capped CRF), or nil for each rung's default.
    public var crf: Double?
    public var measureQuality: Bool
    public var keepRedundantRungs: Bool
    public var storyboard: Bool
    /// Integrated loudness target, LUFS; nil: off.
    public var loudness: Double?
    public var poster: Bool
    /// Absolute path of the chapters file, links resolved; nil without.
    public var chaptersPath: String?
    /// The job's `audio` then its `audioDescription` files.
    public var audioFiles: [AudioFile] = []
    public var segmentDuration: Double
    public var segmentFormat: SegmentFormat
    public var preset: String
    /// Written in place and published as segments complete (the engine's progressive mode),
    /// instead of appearing all at once.
    public var progressive: Bool
    /// Holes in the video's timestamps are cut out of the timeline instead of filled.
    public var collapseGaps: Bool
    /// Seconds of media per time chunk; 0 never splits.
    public var chunkDuration: Double
}

/// Turns a decoded job into a plan, confining every path to its root.
public struct JobResolver: Sendable {
    public let inputRoot: ConfinedRoot
    public let outputRoot: ConfinedRoot
    public var defaults: JobDefaults

    public init(inputRoot: ConfinedRoot, outputRoot: ConfinedRoot, defaults: JobDefaults = JobDefaults()) {
        self.inputRoot = inputRoot
        self.outputRoot = outputRoot
        self.defaults = defaults
    }

    /// - Throws: `JobRejection` (`unsafe-path`) for a path that leaves its root, `invalid-job`
    ///   for values the decoder let through but the engine cannot take.
    public func plan(_ job: TranscodeJob) throws(JobRejection) -> JobPlan {
        let input: String
        do { input = try inputRoot.resolve(job.input, hiddenAllowed: true).absolute } catch {
            throw JobRejection(.unsafePath, "input \(JobDecoder.quoted(job.input)) \(error.message)", jobId: job.jobId)
        }
        var subtitles: [JobPlan.Subtitle] = []
        for (index, subtitle) in job.subtitles.enumerated() {
            do {
                let path = try inputRoot.resolve(subtitle.path, hiddenAllowed: true).absolute
                subtitles.append(JobPlan.Subtitle(language: subtitle.language, name: subtitle.name, path: path))
            } catch {
                throw JobRejection(.unsafePath, "subtitles[\(index)].path \(JobDecoder.quoted(subtitle.path)) \(error.message)", jobId: job.jobId)
            }
        }
        var chapters: String?
        if let path = job.chapters {
            do { chapters = try inputRoot.resolve(path, hiddenAllowed: true).absolute } catch {
                throw JobRejection(.unsafePath, "chapters \(JobDecoder.quoted(path)) \(error.message)", jobId: job.jobId)
            }
        }
        var audioFiles: [JobPlan.AudioFile] = []
        for (field, files, described) in [("audio", job.audio, false), ("audioDescription", job.audioDescription, true)] {
            for (index, file) in files.enumerated() {
                do {
                    let path = try inputRoot.resolve(file.path, hiddenAllowed: true).absolute
                    audioFiles.append(JobPlan.AudioFile(language: file.language, describesVideo: described, path: path))
                } catch {
                    throw JobRejection(.unsafePath, "\(field)[\(index)].path \(JobDecoder.quoted(file.path)) \(error.message)", jobId: job.jobId)
                }
            }
        }
        let output: (absolute: String, relative: String)
        do { output = try outputRoot.resolve(job.output, hiddenAllowed: false, finalLinkAllowed: false) } catch {
            throw JobRejection(.unsafePath, "output \(JobDecoder.quoted(job.output)) \(error.message)", jobId: job.jobId)
        }
        let ladder: Ladder
        do { ladder = try job.rungs() ?? defaults.ladder } catch {
            throw JobRejection(.invalidJob, "ladder: \(error)", jobId: job.jobId)
        }
        return JobPlan(job: job, inputPath: input, subtitles: subtitles, outputPath: output.absolute,
                       outputKey: output.relative, ladder: ladder,
                       rateControl: job.rateControl ?? (job.crf == nil ? defaults.rateControl : .cappedCRF), crf: job.crf,
                       measureQuality: job.measureQuality ?? false, keepRedundantRungs: job.keepRedundantRungs ?? false,
                       storyboard: job.storyboard ?? true, loudness: job.loudness.map(\.target) ?? LoudnessNormalization.defaultTarget, poster: job.poster ?? true, chaptersPath: chapters, audioFiles: audioFiles,
                       segmentDuration: job.segmentDuration ?? defaults.segmentDuration,
                       segmentFormat: job.segmentFormat ?? defaults.segmentFormat,
                       preset: job.preset ?? defaults.preset.rawValue, progressive: job.progressive ?? false,
                       collapseGaps: job.collapseGaps ?? false,
                       // Split transcodes take no chapters, added audio or cut holes: a job with them is transcoded whole.
                       chunkDuration: chapters != nil || !audioFiles.isEmpty || job.collapseGaps == true ? 0
                           : job.chunkDuration ?? defaults.chunkDuration)
    }
}
