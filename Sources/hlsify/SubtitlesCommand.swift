import ArgumentParser
import Foundation
import HLSKit

/// `hlsify subtitles INPUT.srt [-o OUTPUT.vtt]`
struct SubtitlesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subtitles",
        abstract: "Convert an SRT file to WebVTT (stdout unless -o is given).")

    @Argument(help: "The SRT file (UTF-8/16/32 with or without BOM, or Windows-1252).")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the WebVTT file.")
    var output: String?

    @Flag(name: .long, help: "Do not print warnings about skipped or repaired cues.")
    var quiet = false

    func run() throws {
        let data: Data
        do {
            // Bounded like the transcoder's --subtitles: regular files up to InputLimits' default.
            data = try SubtitleFile.read(input, maxBytes: InputLimits.defaultMaxSubtitleBytes)
        } catch let error as TranscodeError {
            Console.error("hlsify: \(error)")
            throw ExitCode(error.exitCode)
        }
        let result: SRTParseResult
        do {
            result = try SRTParser().parse(data)
        } catch {
            Console.error("hlsify: \(input): \(error)")
            throw ExitCode(65)
        }
        if !quiet { for warning in result.warnings { Console.error("hlsify: warning: \(input): \(warning)") } }
        let text = Data(WebVTTWriter().render(result.cues).utf8)
        guard let output else {
            FileHandle.standardOutput.write(text)
            return
        }
        do {
            try text.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            Console.error("hlsify: cannot write \(output): \((error as NSError).localizedDescription)")
            throw ExitCode(73)
        }
    }
}
