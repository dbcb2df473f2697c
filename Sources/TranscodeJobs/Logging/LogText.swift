/// Makes text safe for a one-line log record: a value that came from a message (a job id, a
/// path, an error text) can never end the line, forge another record or reach a terminal raw.
public enum LogText {
    /// `text` with every control character (C0, DEL, C1, U+2028/U+2029: `JobNames.isControl`)
    /// written as an escape: `\n`, `\r`, `\t`, otherwise `\u{XX}`. Everything else is kept.
    /// Costs one pass over the text; returns `text` itself when there is nothing to escape.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: JobNames.isControl) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard JobNames.isControl(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }
}
