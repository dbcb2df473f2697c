import ArgumentParser
import Foundation
import HLSKit

@main
struct HLSify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hlsify",
        abstract: "Transcode a video into an adaptive HLS set (H.264 ladder, AAC, fMP4 or TS segments).",
        subcommands: [TranscodeCommand.self, PlanCommand.self, EncodeChunkCommand.self, StitchCommand.self,
                      SubtitlesCommand.self, PreviewCommand.self],
        defaultSubcommand: TranscodeCommand.self)
}
