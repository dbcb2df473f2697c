import Foundation

/// An SRT file to publish as a subtitle rendition of the HLS set.
public struct SubtitleTrack: Sendable, Equatable {
    /// BCP 47 language tag, written as given (e.g. `en`, `pt-BR`).
    public var language: String
    /// NAME in the master playlist; defaults to the language's English name.
    public var name: String?
    /// Path of the SRT file.
    public var path: String

    /// A subtitle rendition of `language` read from the SRT file at `path`, shown as `name` (nil:
    /// the language's English name). The file is read when the transcode (or a plan) starts.
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

    /// Reads (bounded by `maxBytes`, see `SubtitleFile.read`) and parses every track up front, so a
    /// bad subtitle file fails the job before the output folder is touched or anything is encoded.
    /// - Throws: `TranscodeError.inputMissing` for a missing or unopenable file, `.invalidInput` for
    ///   a file that is not regular, is over `maxBytes`, or has no readable cue, `.io` when reading fails.
    static func load(_ tracks: [SubtitleTrack], maxBytes: Int) throws -> [LoadedSubtitles] {
        try tracks.map { track in
            let data = try SubtitleFile.read(track.path, maxBytes: maxBytes)
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
