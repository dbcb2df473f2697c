import ArgumentParser
import Foundation
import HLSKit
import ObjectStorage

/// `hlsify INPUT --out DIR …`
struct TranscodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcode",
        abstract: "Transcode INPUT into an HLS set in DIR (master.m3u8 plus one folder per rendition).")

    @Argument(help: "The source video file, or an object as s3://BUCKET/KEY.")
    var input: String

    @Option(name: .long, help: "Output folder, or a bucket prefix as s3://BUCKET/PREFIX; the set appears only when complete.")
    var out: String

    @OptionGroup var encoding: EncodingArguments

    @OptionGroup var storage: StorageArguments

    @Flag(name: .long, help: "Write in place and publish playlists as each segment completes (players can start after the first).")
    var progressive = false

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
        guard (0...60).contains(resumePreRoll) else {
            throw ValidationError("--resume-pre-roll must be between 0 and 60 seconds")
        }
    }

    func run() async throws {
        LibAVLog.setLevel(verbose ? .warning : .quiet)
        var options = try encoding.options()
        options.overwrite = force
        options.progressive = progressive
        options.resume = !noResume
        options.resumePreRollSeconds = resumePreRoll
        let shownOut = out
        options.onStart = { status in
            guard status.resumed else { return }
            Console.error("hlsify: resuming \(shownOut) from segment \(status.fromSegment): \(status.segmentsReused) segment files kept from an earlier run")
        }

        let reporter = ProgressReporter(enabled: !quiet)
        let input = input, output = URL(fileURLWithPath: out), settings = options
        let report: TranscodeReport
        if S3Address.isAddress(input) || S3Address.isAddress(out) {
            let configuration = try CommandRun.storage { () throws(StorageError) in try storage.configuration(ProcessInfo.processInfo.environment) }
            let bucketRun = BucketTranscode(input: input, output: out, options: settings, overwrite: force, configuration: configuration)
            report = try await CommandRun.run(reporter: reporter) {
                try await bucketRun.run { reporter.update($0) }
            }
        } else {
            report = try await CommandRun.run(reporter: reporter) {
                try await Transcoder.transcode(input: input, output: output, options: settings) { reporter.update($0) }
            }
        }
        try CommandRun.show(report, json: json, quiet: quiet)
    }
}
