import ArgumentParser
import Foundation
import HLSKit

/// `hlsify encode-chunk INPUT --work WORK --chunk NAME`: one chunk of a planned split.
struct EncodeChunkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-chunk",
        abstract: "Encode one chunk of the transcode planned in WORK and commit it there.",
        discussion: "Settings come from the plan. A chunk committed already is left as it is (exit 0).")

    @Argument(help: "The source video file (the one planned).")
    var input: String

    @Option(name: .long, help: "The shared work folder holding the plan.")
    var work: String

    @Option(name: .long, help: "The chunk: a number `hlsify plan` printed, or audio.")
    var chunk: String

    @Option(name: .long, help: "Who encodes it, noted in the chunk's manifest.")
    var worker: String?

    @Flag(name: .long, help: "Print the chunk's manifest as JSON on stdout.")
    var json = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard ChunkName(chunk) != nil else { throw ValidationError("--chunk must be a chunk number or audio, got '\(chunk)'") }
    }

    func run() async throws {
        LibAVLog.setLevel(.quiet)
        let reporter = ProgressReporter(enabled: !quiet)
        let input = input, work = URL(fileURLWithPath: self.work), name = ChunkName(chunk)!, worker = worker
        let result = try await CommandRun.run(reporter: reporter) {
            try await ChunkedTranscode.encode(input: input, work: work, chunk: name, worker: worker) { reporter.update($0) }
        }
        if result.alreadyCommitted {
            Console.error("hlsify: chunk \(name.argument) of \(self.work) is already committed")
        } else if !quiet {
            let segments = result.manifest.renditions.reduce(0) { $0 + $1.segments.count }
            Console.error(String(format: "hlsify: committed chunk %@ of %@: %d segment files in %.1f s",
                                 name.argument, self.work, segments, result.manifest.encodeSeconds))
        }
        if json { try CommandRun.printJSON(result.manifest) }
    }
}
