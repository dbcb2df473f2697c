/// Why subtitle input could not be used at all.
///
/// Parse errors (`emptyInput`, `noReadableCues`, `notWebVTT`) mean bad input data (sysexits 65);
/// `invalidSegmentation` means the caller passed inconsistent segment times.
public enum SubtitleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The subtitle file is empty or holds only whitespace.
    case emptyInput
    /// Not one cue could be read; `warnings` says what was skipped and where.
    case noReadableCues(warnings: [SubtitleWarning])
    /// The text does not start with the `WEBVTT` signature.
    case notWebVTT
    /// Segment spans or total duration given to the segmenter are unusable.
    case invalidSegmentation(String)

    public var description: String {
        switch self {
        case .emptyInput:
            return "the subtitle file is empty"
        case .noReadableCues(let warnings):
            var text = "no readable subtitle cue found; expected blocks such as "
                + "\"1\\n00:00:01,000 --> 00:00:02,500\\nText\""
            if let first = warnings.first {
                text += " (\(warnings.count) problem\(warnings.count == 1 ? "" : "s"), first: \(first))"
            }
            return text
        case .notWebVTT:
            return "not a WebVTT file: the first line must be \"WEBVTT\""
        case .invalidSegmentation(let reason):
            return "cannot segment subtitles: \(reason)"
        }
    }
}
