/// Writes a complete WebVTT file.
///
/// Output: `WEBVTT`, the header lines, a blank line, then each cue as
/// `HH:MM:SS.mmm --> HH:MM:SS.mmm[ settings]`, its text and a blank line, all with `"\n"`.
/// Cues are sorted by start time (stable, so equal starts keep their order). Whatever a cue
/// holds, the file stays valid: negative times are written as 0, blank lines in text are left
/// out (they would end the cue), `-->` in text is written `--&gt;`, and NUL becomes U+FFFD.
/// Header lines that are blank or contain `-->` are left out, for the same reason.
///
/// Cost: O(n log n) for the sort, linear in the text written.
public struct WebVTTWriter: Sendable {
    /// Lines written right after `WEBVTT`, such as `X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000`.
    public var headerLines: [String]

    public init(headerLines: [String] = []) {
        self.headerLines = headerLines
    }

    /// The WebVTT file for `cues`.
    public func render(_ cues: [SubtitleCue]) -> String {
        var out = "WEBVTT\n"
        for line in headerLines.flatMap(SubtitleLines.split)
        where !SubtitleLines.isBlank(line) && !line.contains("-->") {
            out += line
            out += "\n"
        }
        out += "\n"
        let sorted = cues.enumerated().sorted {
            ($0.element.start, $0.offset) < ($1.element.start, $1.offset)
        }
        for (_, cue) in sorted {
            out += Self.render(cue)
        }
        return out
    }

    /// One cue block, ending with its blank line.
    static func render(_ cue: SubtitleCue) -> String {
        var out = WebVTTTimestamp.format(cue.start) + " --> " + WebVTTTimestamp.format(cue.end)
        if let settings = normalizedSettings(cue.settings) {
            out += " " + settings
        }
        out += "\n"
        for line in SubtitleLines.split(cue.text) where !SubtitleLines.isBlank(line) {
            out += line.replacing("-->", with: "--&gt;").replacing("\0", with: "\u{FFFD}")
            out += "\n"
        }
        out += "\n"
        return out
    }

    /// Settings as single-space separated tokens, without any containing `-->`; nil when none.
    static func normalizedSettings(_ settings: String?) -> String? {
        guard let settings else { return nil }
        let tokens = settings.split(whereSeparator: \.isWhitespace).filter { !$0.contains("-->") }
        return tokens.isEmpty ? nil : tokens.joined(separator: " ")
    }
}
