import ArgumentParser
import Foundation
import HLSKit

/// `hlsify INPUT --out DIR …`
struct TranscodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcode",
        abstract: "Transcode INPUT into an HLS set in DIR (master.m3u8 plus one folder per rendition).")

    @Argument(help: "The source video file.")
    var input: String

    @Option(name: .long, help: "Output folder; it appears only when the set is complete.")
    var out: String

    // A transform (not ExpressibleByArgument) so that a bad ladder is reported with the
    // LadderError's reason; the default is written into the help for the same cause.
    @Option(name: .long, help: "Rungs named by the short side, optionally with a bitrate: 1080p,720p@2800k,480p. (default: \(EncodingDefaults.ladder))",
            transform: Ladder.init(parsing:))
    var ladder: Ladder = EncodingDefaults.ladder

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

    @Flag(name: .long, help: "Write in place and publish playlists as each segment completes (players can start after the first).")
    var progressive = false

    @Option(name: .long, help: "Reject sources longer than this many seconds.")
    var maxDuration: Double = InputLimits().maxDuration

    @Option(name: .long, help: "Reject pictures larger than this on either side.")
    var maxDimension: Int = InputLimits().maxDimension

    @Option(name: .long, help: "Give up after this many wall-clock seconds (default: 120 s + 20 × the source duration).")
    var timeLimit: Double?

    @Option(name: .long, help: ArgumentHelp("x264 threads per rendition (default: from each rung's share of the cores, see README).", valueName: "N"))
    var encoderThreads: Int?

    @Flag(name: .long, help: "Replace DIR if it exists.")
    var force = false

    @Flag(name: .long, help: "Start afresh even when a run that died left work for DIR that could be resumed.")
    var noResume = false

    @Option(name: .long, help: .hidden)
    var resumePreRoll: Double = EncodingDefaults.resumePreRollSeconds

    @Flag(name: .long, help: "Print the JSON report on stdout when done.")
    var json = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    @Flag(name: .long, help: "Let libav* print its own warnings on stderr.")
    var verbose = false

    func validate() throws {
        guard EncodingDefaults.segmentDurations.contains(segmentDuration) else {
            throw ValidationError("--segment-duration must be \(EncodingDefaults.segmentDurationsText)")
        }
        for entry in subtitles { _ = try Self.subtitleTrack(entry) }
        guard maxDuration > 0, maxDimension >= 16, (timeLimit ?? 1) > 0 else {
            throw ValidationError("--max-duration, --max-dimension and --time-limit must be positive")
        }
        guard (0...60).contains(resumePreRoll) else {
            throw ValidationError("--resume-pre-roll must be between 0 and 60 seconds")
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

    /// Parses `LANG=FILE` (the language a BCP 47 tag).
    static func subtitleTrack(_ entry: String) throws -> SubtitleTrack {
        guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex,
              entry.index(after: equals) != entry.endIndex else {
            throw ValidationError("--subtitles takes LANG=FILE.srt, got '\(entry)'")
        }
        let language = String(entry[..<equals])
        guard language.count <= 35, language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
              language.first?.isLetter == true else {
            throw ValidationError("--subtitles: '\(language)' is not a language tag (like en or pt-BR)")
        }
        return SubtitleTrack(language: language, path: String(entry[entry.index(after: equals)...]))
    }

    func run() async throws {
        LibAVLog.setLevel(verbose ? .warning : .quiet)
        var options = TranscodeOptions()
        options.ladder = ladder.rungs
        options.segmentDuration = segmentDuration
        options.segmentFormat = segmentFormat
        options.preset = preset.rawValue
        options.audioBitrate = BitrateText.parse(audioBitrate)!
        options.audioOnlyVariantBitrate = audioOnlyVariant.flatMap(BitrateText.parse)
        options.overwrite = force
        options.progressive = progressive
        options.limits.maxDuration = maxDuration
        options.limits.maxDimension = maxDimension
        options.limits.timeLimit = timeLimit
        options.encoderThreads = encoderThreads
        options.subtitles = try subtitles.map(Self.subtitleTrack)
        options.resume = !noResume
        options.resumePreRollSeconds = resumePreRoll
        let shownOut = out
        options.onStart = { status in
            guard status.resumed else { return }
            Console.error("hlsify: resuming \(shownOut) from segment \(status.fromSegment): \(status.segmentsReused) segment files kept from an earlier run")
        }

        let reporter = ProgressReporter(enabled: !quiet)
        let task = Task {
            try await Transcoder.transcode(input: input, output: URL(fileURLWithPath: out), options: options) {
                reporter.update($0)
            }
        }
        let signals = SignalCanceller(task: task)
        defer { signals.stop() }
        do {
            let report = try await task.value
            reporter.finish(succeeded: true, last: reporter.latest)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                FileHandle.standardOutput.write(try encoder.encode(report))
                FileHandle.standardOutput.write(Data("\n".utf8))
            } else if !quiet {
                Console.error(Summary.line(report))
            }
            if !quiet { for warning in report.warnings { Console.error("hlsify: warning: \(warning)") } }
        } catch let error as TranscodeError {
            reporter.finish()
            Console.error("hlsify: \(error)")
            throw ExitCode(error.exitCode)
        } catch {
            reporter.finish()
            Console.error("hlsify: internal error: \(error)")
            throw ExitCode(70)
        }
    }
}
