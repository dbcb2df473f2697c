// The WebVTT side of ChapterFile.parse.

enum ChapterWebVTTReader {
    /// The cues of a WebVTT chapters file as chapters; `text` starts (after blank lines and
    /// leading white space) with the `WEBVTT` line. Linear in its length.
    static func read(_ text: Substring, file name: String) throws(ChapterError) -> [Chapter] {
        let lines = SubtitleLines.split(String(text))
        var i = 0
        while i < lines.count, SubtitleLines.isBlank(lines[i]) { i += 1 }
        i += 1  // the WEBVTT line
        // The header: up to a blank line or, as the WebVTT parser does, a cue timing line.
        while i < lines.count, !SubtitleLines.isBlank(lines[i]), !lines[i].contains("-->") { i += 1 }

        var chapters: [Chapter] = []
        while i < lines.count {
            if SubtitleLines.isBlank(lines[i]) { i += 1; continue }
            if isSkippedBlock(lines[i]) {
                while i < lines.count, !SubtitleLines.isBlank(lines[i]) { i += 1 }
                continue
            }
            let number = chapters.count + 1
            guard number <= ChapterFile.maximumChapters else { throw ChapterFile.tooManyChapters(file: name) }
            let timingIndex: Int
            if lines[i].contains("-->") {
                timingIndex = i
            } else if i + 1 < lines.count, lines[i + 1].contains("-->") {
                timingIndex = i + 1  // lines[i] is the cue identifier
            } else {
                throw ChapterError(file: name, "line \(i + 1) (cue \(number)): expected a cue timing line such as "
                    + "\"00:01:00.000 --> 00:02:00.000\", found \(ChapterText.quoted(lines[i]))")
            }
            let line = timingIndex + 1
            guard let (start, end) = timing(lines[timingIndex]) else {
                throw ChapterError(file: name, "line \(line) (cue \(number)): cannot read the cue timing "
                    + "\(ChapterText.quoted(lines[timingIndex])); expected \"HH:MM:SS.mmm --> HH:MM:SS.mmm\"")
            }
            guard end > start else {
                throw ChapterError(file: name, "line \(line) (cue \(number)): the cue ends at "
                    + "\(WebVTTTimestamp.format(end)), not after its start (\(WebVTTTimestamp.format(start)))")
            }
            i = timingIndex + 1
            var payload: [Substring] = []
            while i < lines.count, !SubtitleLines.isBlank(lines[i]), !lines[i].contains("-->") {
                payload.append(lines[i])
                i += 1
            }
            let title = try ChapterTitle.checked(plainText(payload.joined(separator: " ")),
                                                 label: "cue \(number) (line \(line))", file: name)
            chapters.append(Chapter(start: Double(start) / 1000, end: Double(end) / 1000, title: title))
        }
        return chapters
    }

    /// Cue text without its tags and with the common character references decoded:
    /// `&amp;` `&lt;` `&gt;` `&nbsp;` `&lrm;` `&rlm;`. A `<` without a closing `>` drops the rest
    /// of the text, as the WebVTT cue text parser does.
    static func plainText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var rest = text[...]
        while let character = rest.first {
            if character == "<" {
                guard let close = rest.firstIndex(of: ">") else { break }
                rest = rest[rest.index(after: close)...]
                continue
            }
            if character == "&", let (reference, decoded) = references.first(where: { rest.hasPrefix($0.0) }) {
                out.unicodeScalars.append(decoded)
                rest = rest.dropFirst(reference.count)
                continue
            }
            out.append(character)
            rest = rest.dropFirst()
        }
        return out
    }

    private static let references: [(String, Unicode.Scalar)] = [
        ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", "\u{A0}"), ("&lrm;", "\u{200E}"), ("&rlm;", "\u{200F}"),
    ]

    /// NOTE, STYLE and REGION blocks: the word alone or followed by a space or tab.
    private static func isSkippedBlock(_ line: Substring) -> Bool {
        ["NOTE", "STYLE", "REGION"].contains { word in
            guard line.hasPrefix(word) else { return false }
            let next = line.dropFirst(word.count).first
            return next == nil || next == " " || next == "\t"
        }
    }

    /// `start --> end [settings]` in milliseconds; white space around the arrow optional.
    private static func timing(_ line: Substring) -> (Int, Int)? {
        WebVTTTimestamp.timingLine(line).map { ($0.start, $0.end) }
    }
}
