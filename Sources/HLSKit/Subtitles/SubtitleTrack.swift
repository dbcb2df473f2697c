import Foundation

/// An SRT file to publish as a subtitle rendition of the HLS set.
public struct SubtitleTrack: Sendable, Equatable {
    /// BCP 47 language tag, written as given (e.g. `en`, `pt-BR`).
    public var language: String
    /// NAME in the master playlist; defaults to the language's English name.
    public var name: String?
    /// Path of the SRT file.
    public var path: String

    public init(language: String, name: String? = nil, path: String) {
        self.language = language
        self.name = name
        self.path = path
    }

    /// The NAME shown to viewers.
    public var displayName: String { name ?? LanguageTag.displayName(language) }
}

/// A subtitle track read and parsed, ready to be segmented once the video's boundaries are known.
struct LoadedSubtitles {
    let track: SubtitleTrack
    let cues: [SubtitleCue]
    let warnings: [String]

    /// Reads and parses every track up front, so a bad subtitle file fails the job before any encoding.
    /// - Throws: `TranscodeError.inputMissing` for an unreadable file, `.invalidInput` for a file with no readable cue.
    static func load(_ tracks: [SubtitleTrack]) throws -> [LoadedSubtitles] {
        try tracks.map { track in
            guard let data = FileManager.default.contents(atPath: track.path) else {
                throw TranscodeError.inputMissing("\(track.path): no such subtitle file (or not readable)")
            }
            do {
                let result = try SRTParser().parse(data)
                let warnings = result.warnings.map { "\(track.path): \($0)" }
                return LoadedSubtitles(track: track, cues: result.cues, warnings: warnings)
            } catch {
                throw TranscodeError.invalidInput("\(track.path): \(error)")
            }
        }
    }
}
