/// What `WebVTTParser` read.
public struct WebVTTParseResult: Sendable, Equatable {
    /// Lines between `WEBVTT` and the first blank line (X-TIMESTAMP-MAP and the like).
    public var headerLines: [String]
    /// Cues in file order. Cue identifiers are not kept.
    public var cues: [SubtitleCue]
    /// Blocks that were skipped, with their line numbers.
    public var warnings: [SubtitleWarning]

    public init(headerLines: [String], cues: [SubtitleCue], warnings: [SubtitleWarning]) {
        self.headerLines = headerLines
        self.cues = cues
        self.warnings = warnings
    }
}

/// Reads WebVTT files, following the WebVTT parsing algorithm closely enough to check our
/// own output: strict timestamps, NOTE / STYLE / REGION blocks skipped, a line containing
/// `-->` ends the cue text before it, settings normalized to single spaces.
///
/// Cost: linear in the input size.
public struct WebVTTParser: Sendable {
    public init() {}

    /// Decodes (UTF-8, or as a byte order mark says) and parses WebVTT bytes.
    /// - Throws: `SubtitleError.notWebVTT` when the signature line is missing.
    public func parse<Bytes: Sequence>(_ bytes: Bytes) throws(SubtitleError) -> WebVTTParseResult
    where Bytes.Element == UInt8 {
        try parse(text: SubtitleTextDecoder.decode(Array(bytes)).text)
    }

    /// Parses WebVTT text (a leading U+FEFF is ignored).
    /// - Throws: `SubtitleError.notWebVTT` when the first line is not `WEBVTT` optionally
    ///   followed by a space or tab and more text.
    public func parse(text: String) throws(SubtitleError) -> WebVTTParseResult {
        let body = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        let lines = SubtitleLines.split(body.replacing("\0", with: "\u{FFFD}"))
        guard let signature = lines.first, signature.hasPrefix("WEBVTT"),
              signature.count == 6 || signature.dropFirst(6).first == " " || signature.dropFirst(6).first == "\t"
        else { throw .notWebVTT }

        var result = WebVTTParseResult(headerLines: [], cues: [], warnings: [])
        var i = 1
        // Header: up to the first blank line, or a line that is a cue timing (spec quirk).
        while i < lines.count, !lines[i].isEmpty, !lines[i].contains("-->") {
            result.headerLines.append(String(lines[i]))
            i += 1
        }
        // Blocks.
        while i < lines.count {
            if lines[i].isEmpty { i += 1; continue }
            var timingIndex: Int?
            if lines[i].contains("-->") {
                timingIndex = i
            } else if i + 1 < lines.count, lines[i + 1].contains("-->") {
                timingIndex = i + 1  // lines[i] is the cue identifier
            }
            guard let t = timingIndex else {
                // NOTE, STYLE, REGION or junk: skip the block.
                let first = lines[i]
                let known = ["NOTE", "STYLE", "REGION"].contains { first == $0 || first.hasPrefix($0 + " ") || first.hasPrefix($0 + "\t") }
                if !known {
                    result.warnings.append(SubtitleWarning(line: i + 1, message: "block without cue timing skipped"))
                }
                while i < lines.count, !lines[i].isEmpty { i += 1 }
                continue
            }
            i = t + 1
            var text: [Substring] = []
            while i < lines.count, !lines[i].isEmpty, !lines[i].contains("-->") {
                text.append(lines[i])
                i += 1
            }
            if let (start, end, settings) = timing(lines[t]) {
                result.cues.append(SubtitleCue(start: start, end: end, text: text.joined(separator: "\n"),
                                               settings: settings))
            } else {
                result.warnings.append(SubtitleWarning(
                    line: t + 1, message: "cannot read cue timing \(SubtitleLines.excerpt(lines[t])); cue skipped"))
            }
        }
        return result
    }

    /// `start --> end [settings]`, white space around the arrow optional.
    private func timing(_ line: Substring) -> (Int, Int, String?)? {
        guard let timing = WebVTTTimestamp.timingLine(line) else { return nil }
        return (timing.start, timing.end, WebVTTWriter.normalizedSettings(String(timing.rest)))
    }
}
