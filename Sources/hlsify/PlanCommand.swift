import ArgumentParser
import Foundation
import HLSKit

/// `hlsify plan INPUT --work WORK …`: the first step of a transcode split by time.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a transcode of INPUT split by time into chunks, in the shared folder WORK.",
        discussion: """
            Prints the chunk names, one per line (0, 1, …, then audio): run `hlsify encode-chunk` for each, \
            anywhere that sees WORK and INPUT, then `hlsify stitch` once. The options are those of a transcode; \
            the chunks and the stitch read them from the plan.
            """)

    @Argument(help: "The source video file.")
    var input: String

    @Option(name: .long, help: "The shared work folder (created).")
    var work: String

    @Option(name: .long, help: "Seconds of media per video chunk, rounded down to whole segments (0: one chunk).")
    var chunkDuration: Double = 240

    @OptionGroup var encoding: EncodingArguments

    @Flag(name: .long, help: "Replace a plan for another source or other settings (and everything in WORK).")
    var force = false

    @Flag(name: .long, help: "Print the plan as JSON instead of the chunk names.")
    var json = false

    func validate() throws {
        guard chunkDuration >= 0, chunkDuration.isFinite else {
            throw ValidationError("--chunk-duration must be 0 or a positive number of seconds")
        }
        guard encoding.chapters == nil else {
            throw ValidationError("--chapters is not taken by split transcodes yet (transcode the file whole)")
        }
        guard encoding.audio.isEmpty, encoding.audioDescription.isEmpty else {
            throw ValidationError("--audio and --audio-description are not taken by split transcodes yet (transcode the file whole)")
        }
        guard !encoding.collapseGaps else {
            throw ValidationError("--collapse-gaps is not taken by split transcodes (transcode the file whole)")
        }
    }

    func run() async throws {
        LibAVLog.setLevel(.quiet)
        let options = try encoding.options()
        let input = input, work = URL(fileURLWithPath: self.work), chunkDuration = chunkDuration, force = force
        let plan = try await CommandRun.run {
            try await ChunkedTranscode.plan(input: input, work: work, options: options, chunkDuration: chunkDuration, replace: force)
        }
        if json {
            try CommandRun.printJSON(plan)
        } else {
            FileHandle.standardOutput.write(Data(plan.chunks.map { $0 + "\n" }.joined().utf8))
        }
    }
}
