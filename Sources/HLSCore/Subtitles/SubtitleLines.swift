/// Line handling shared by the SRT and WebVTT readers.
enum SubtitleLines {
    /// Splits on CRLF, LF and CR (a lone CR is a line end too), and on CR CR LF as one line end
    /// (left by converting CRLF twice). Keeps empty lines; linear.
    static func split(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var lineStart = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "\n" || character == "\r\n" || character == "\r" else {
                index = text.index(after: index)
                continue
            }
            lines.append(text[lineStart..<index])
            var next = text.index(after: index)
            if character == "\r", next < text.endIndex, text[next] == "\r\n" {
                next = text.index(after: next)
            }
            index = next
            lineStart = next
        }
        lines.append(text[lineStart...])
        return lines
    }

    /// The line without trailing white space.
    static func trimmingTrailingWhitespace(_ line: Substring) -> Substring {
        var end = line.endIndex
        while end > line.startIndex {
            let before = line.index(before: end)
            guard line[before].isWhitespace else { break }
            end = before
        }
        return line[..<end]
    }

    /// True when the line is empty or only white space.
    static func isBlank(_ line: Substring) -> Bool {
        line.allSatisfy(\.isWhitespace)
    }

    /// At most `limit` characters of the line, for quoting it in a warning.
    static func excerpt(_ line: Substring, limit: Int = 60) -> String {
        let trimmed = line.trimmingPrefix(while: \.isWhitespace)
        if trimmed.count <= limit { return "\"\(trimmed)\"" }
        return "\"\(trimmed.prefix(limit))…\""
    }
}
