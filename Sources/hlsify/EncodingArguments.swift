import ArgumentParser
import Foundation
import HLSKit

/// The options that decide what a transcode makes (the ladder, segments, encoder, audio,
/// subtitles, input limits): shared by `hlsify INPUT --out DIR` and `hlsify plan`.
struct EncodingArguments: ParsableArguments {
    // A transform (not ExpressibleByArgument) so that a bad ladder is reported with the
    // LadderError's reason; the default is written into the help for the same cause.
    @Option(name: .long, help: "Rungs named by the short side, optionally with a bitrate: 1080p,720p@2800k,480p; or auto (adds 360p and 240p, and two bit rates for any source). (default: \(EncodingDefaults.ladder))",
            transform: Ladder.init(parsing:))
    var ladder: Ladder = EncodingDefaults.ladder

    @Option(name: .long, help: ArgumentHelp("capped-crf: constant quality per rung under the rung's bitrate cap; abr: every rung at its bitrate. (default: \(EncodingDefaults.rateControl.rawValue))", valueName: "mode"))
    var rateControl: RateControl?

    @Option(name: .long, help: ArgumentHelp("With capped-crf: one x264 CRF for every rung, 1 to 51 (default: each rung's, see README).", valueName: "N"))
    var crf: Double?

    @Flag(name: .long, help: "Keep a rung whose lower neighbour came out within 10% of its bytes (by default it is dropped).")
    var keepRedundantRungs = false

    @Flag(name: .long, help: "Measure each rendition's SSIM and PSNR against the source into the report (decodes the output: see README for the cost).")
    var measureQuality = false

    @Flag(name: .customLong("no-storyboard"), help: "Do not write the seek-bar thumbnails (storyboard/storyboard.vtt and its JPEG sprite sheets).")
    var noStoryboard = false

    @Flag(name: .customLong("no-poster"), help: "Do not write poster.jpg (a representative picture at the top rung's size).")
    var noPoster = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Integrated loudness of every audio rendition, LUFS (EBU R128; true peak at most -1 dBTP), from -40 to -5, or off. (default: \(Int(LoudnessNormalization.defaultTarget)))", valueName: "LUFS|off"))
    var loudness: String?

    @Option(name: .long, help: "Target segment duration in seconds.")
    var segmentDuration: Double = EncodingDefaults.segmentDuration

    @Option(name: .long, help: "Segment container.")
    var segmentFormat: SegmentFormat = EncodingDefaults.segmentFormat

    @Option(name: .long, help: "x264 preset.")
    var preset: X264Preset = EncodingDefaults.preset

    @Option(name: .long, help: "AAC bitrate, e.g. 96k.")
    var audioBitrate: String = "\(EncodingDefaults.audioBitrate / 1000)k"

    @Option(name: .long, help: ArgumentHelp("Also list an audio-only variant at this AAC bitrate, e.g. 64k, for networks too slow for the lowest video rung.", valueName: "BITRATE"))
    var audioOnlyVariant: String?

    @Option(name: .long, help: ArgumentHelp("A subtitle rendition from an SRT file, as LANG=FILE.srt (repeatable; the first is the default).", valueName: "LANG=FILE"))
    var subtitles: [String] = []

    @Option(name: .long, help: ArgumentHelp("An alternate audio rendition from a media file (a dubbed track), as LANG=FILE (repeatable). Laid on the video's timeline from its first sample, padded or cut to the video's length.", valueName: "LANG=FILE"))
    var audio: [String] = []

    @Option(name: .long, help: ArgumentHelp("An audio description (narration of what is on screen) from a media file, as LANG=FILE (repeatable): listed with CHARACTERISTICS=\"public.accessibility.describes-video\".", valueName: "LANG=FILE"))
    var audioDescription: [String] = []

    @Option(name: .long, help: ArgumentHelp("Chapters from a WebVTT chapters file or a JSON list of {\"start\": seconds, \"title\": ...}, written as chapters.vtt and Apple's chapters.json (named in the master).", valueName: "FILE"))
    var chapters: String?

    @Flag(name: .long, help: "Cut the holes in the video's timestamps out (a recorder paused for the break): what follows moves back, audio, subtitles and chapters with it. By default a hole keeps its length and shows the picture before it.")
    var collapseGaps = false

    @Option(name: .long, help: "Reject sources longer than this many seconds.")
    var maxDuration: Double = InputLimits().maxDuration

    @Option(name: .long, help: "Reject pictures larger than this on either side.")
    var maxDimension: Int = InputLimits().maxDimension

    @Option(name: .long, help: ArgumentHelp("Reject an input object in a bucket larger than this many bytes (default: 32 GiB).", valueName: "BYTES"))
    var maxInputBytes: Int64?

    @Option(name: .long, help: "Give up after this many wall-clock seconds (default: 120 s + 20 × the source duration).")
    var timeLimit: Double?

    @Option(name: .long, help: ArgumentHelp("x264 threads per rendition (default: from each rung's share of the cores, see README).", valueName: "N"))
    var encoderThreads: Int?

    @Option(name: .long, help: ArgumentHelp("The engine's thread weights on 2 cores (nice increments that give the heaviest rung a core): auto, only while other processes leave the machine quiet; always; off.", valueName: "auto|always|off"))
    var threadWeights: ThreadWeightsSetting = .auto

    func validate() throws {
        guard EncodingDefaults.segmentDurations.contains(segmentDuration) else {
            throw ValidationError("--segment-duration must be \(EncodingDefaults.segmentDurationsText)")
        }
        for entry in subtitles { _ = try Self.subtitleTrack(entry) }
        _ = try audioFiles()
        _ = try Self.loudnessTarget(loudness)
        guard maxDuration > 0, maxDimension >= 16, (timeLimit ?? 1) > 0 else {
            throw ValidationError("--max-duration, --max-dimension and --time-limit must be positive")
        }
        if let crf {
            guard crf.isFinite, RungDefaults.acceptedCRFs.contains(crf) else {
                throw ValidationError("--crf must be \(RungDefaults.acceptedCRFsText)")
            }
            guard rateControl != .abr else { throw ValidationError("--crf is for --rate-control capped-crf, not abr") }
        }
        if let encoderThreads, !(1...64).contains(encoderThreads) {
            throw ValidationError("--encoder-threads must be between 1 and 64")
        }
        guard let rate = BitrateText.parse(audioBitrate), EncodingDefaults.audioBitrates.contains(rate) else {
            throw ValidationError("--audio-bitrate must be \(EncodingDefaults.audioBitratesText)")
        }
        if let audioOnlyVariant {
            guard let rate = BitrateText.parse(audioOnlyVariant), EncodingDefaults.audioBitrates.contains(rate) else {
                throw ValidationError("--audio-only-variant must be \(EncodingDefaults.audioBitratesText)")
            }
            guard rate != BitrateText.parse(audioBitrate) else {
                throw ValidationError("--audio-only-variant must differ from --audio-bitrate")
            }
        }
    }

    /// The engine's options for these arguments (after `validate()`).
    func options() throws -> TranscodeOptions {
        var options = TranscodeOptions()
        options.ladder = ladder
        options.rateControl = rateControl ?? (crf == nil ? EncodingDefaults.rateControl : .cappedCRF)
        options.crf = crf
        options.keepRedundantRungs = keepRedundantRungs
        options.measureQuality = measureQuality
        options.loudness = try Self.loudnessTarget(loudness)
        options.storyboard = !noStoryboard
        options.poster = !noPoster
        options.segmentDuration = segmentDuration
        options.segmentFormat = segmentFormat
        options.preset = preset.rawValue
        options.audioBitrate = BitrateText.parse(audioBitrate)!
        options.audioOnlyVariantBitrate = audioOnlyVariant.flatMap(BitrateText.parse)
        options.limits.maxDuration = maxDuration
        options.limits.maxDimension = maxDimension
        options.limits.timeLimit = timeLimit
        if let maxInputBytes { options.limits.maxObjectBytes = maxInputBytes }
        options.encoderThreads = encoderThreads
        options.weightsThreads = threadWeights != .off
        options.weightsOnlyWhenQuiet = threadWeights == .auto
        options.subtitles = try subtitles.map(Self.subtitleTrack)
        options.chapters = chapters
        options.collapseGaps = collapseGaps
        options.audioFiles = try audioFiles()
        return options
    }

    /// `--loudness`: a target in LUFS, `off` (nil), or the default when not given.
    static func loudnessTarget(_ text: String?) throws -> Double? {
        guard let text else { return LoudnessNormalization.defaultTarget }
        if text.lowercased() == "off" { return nil }
        guard let value = Double(text), value.isFinite, LoudnessNormalization.acceptedTargets.contains(value) else {
            throw ValidationError("--loudness must be off or an integrated loudness from \(Int(LoudnessNormalization.acceptedTargets.lowerBound)) to \(Int(LoudnessNormalization.acceptedTargets.upperBound)) LUFS, got '\(text)'")
        }
        return value
    }

    /// Parses `LANG=FILE.srt` (the language a BCP 47 tag).
    static func subtitleTrack(_ entry: String) throws -> SubtitleTrack {
        let (language, path) = try languageAndFile(entry, option: "--subtitles", file: "FILE.srt")
        return SubtitleTrack(language: language, path: path)
    }

    /// `--audio` then `--audio-description`, as the engine takes them (the engine checks the
    /// languages: one that is not a BCP 47 tag is bad input, exit 65).
    func audioFiles() throws -> [AudioTrackFile] {
        try audio.map { entry in
            let (language, path) = try Self.languageAndFile(entry, option: "--audio", file: "FILE", checked: false)
            return AudioTrackFile(language: language, path: path)
        } + audioDescription.map { entry in
            let (language, path) = try Self.languageAndFile(entry, option: "--audio-description", file: "FILE", checked: false)
            return AudioTrackFile(language: language, path: path, describesVideo: true)
        }
    }

    /// Splits `LANG=FILE`; when `checked`, the language must have a language tag's shape (`en`, `pt-BR`).
    static func languageAndFile(_ entry: String, option: String, file: String, checked: Bool = true) throws -> (String, String) {
        guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex,
              entry.index(after: equals) != entry.endIndex else {
            throw ValidationError("\(option) takes LANG=\(file), got '\(entry)'")
        }
        let language = String(entry[..<equals])
        guard !checked || (language.count <= 35 && language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
                           && language.first?.isLetter == true) else {
            throw ValidationError("\(option): '\(language)' is not a language tag (like en or pt-BR)")
        }
        return (language, String(entry[entry.index(after: equals)...]))
    }
}

/// `--thread-weights`: `TranscodeOptions.weightsThreads` and `.weightsOnlyWhenQuiet`.
enum ThreadWeightsSetting: String, ExpressibleByArgument, CaseIterable {
    case auto, always, off
}
