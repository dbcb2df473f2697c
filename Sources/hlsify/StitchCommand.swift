import ArgumentParser
import Foundation
import HLSKit

/// `hlsify stitch --work WORK --out DIR`: the last step of a split transcode.
struct StitchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stitch",
        abstract: "Join the chunks committed in WORK into one HLS set in DIR (no encoding).",
        discussion: "Exits 75 while a chunk is missing. WORK is left as it is.")

    @Option(name: .long, help: "The shared work folder holding the plan and the chunks.")
    var work: String

    @Option(name: .long, help: "Output folder; it appears only when the set is complete.")
    var out: String

    @Flag(name: .long, help: "Replace DIR if it exists.")
    var force = false

    @Flag(name: .long, help: "Print the JSON report on stdout when done.")
    var json = false

    @Flag(name: .long, help: "No summary on stderr.")
    var quiet = false

    func run() async throws {
        let work = URL(fileURLWithPath: self.work), output = URL(fileURLWithPath: out), force = force
        let report = try await CommandRun.run {
            try await ChunkedTranscode.stitch(work: work, output: output, overwrite: force)
        }
        try CommandRun.show(report, json: json, quiet: quiet)
    }
}
