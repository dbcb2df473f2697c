/// What `SRTParser` read from a file.
public struct SRTParseResult: Sendable, Equatable {
    /// Readable cues, in file order (not sorted; `WebVTTWriter` sorts).
    public var cues: [SubtitleCue]
    /// Cues skipped and things repaired, in file order.
    public var warnings: [SubtitleWarning]
    /// The encoding the bytes were read in (`.utf8` when parsing a `String`).
    public var encoding: SubtitleTextEncoding

    public init(cues: [SubtitleCue], warnings: [SubtitleWarning], encoding: SubtitleTextEncoding = .utf8) {
        self.cues = cues
        self.warnings = warnings
        self.encoding = encoding
    }
}
