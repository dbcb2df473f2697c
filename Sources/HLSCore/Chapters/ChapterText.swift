// Text forms shared by the chapter readers, writers and their error messages.

enum ChapterText {
    /// Most Characters of input text an error message quotes.
    static let excerptLimit = 60

    /// `text` in double quotes for an error message: at most `limit` Characters (then "…") and
    /// with control characters and line or paragraph separators replaced by U+FFFD.
    static func quoted(_ text: some StringProtocol, limit: Int = excerptLimit) -> String {
        "\"" + excerpt(text, limit: limit) + "\""
    }

    /// At most `limit` Characters of `text` (then "…"), made safe for one line.
    static func excerpt(_ text: some StringProtocol, limit: Int = excerptLimit) -> String {
        var prefix = Substring(text).prefix(limit + 1)
        var cut = false
        if prefix.count > limit {
            prefix = prefix.prefix(limit)
            cut = true
        }
        return oneLine(prefix) + (cut ? "…" : "")
    }

    /// `text` with control characters (Cc) and line or paragraph separators replaced by U+FFFD.
    static func oneLine(_ text: some StringProtocol) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A time for an error message: `HH:MM:SS.mmm` (rounded to the millisecond, `-` before a
    /// negative time), or the plain number when it is not finite or beyond about 285,000 years.
    static func time(_ seconds: Double) -> String {
        let milliseconds = (abs(seconds) * 1000).rounded()
        guard seconds.isFinite, milliseconds <= 9e15 else { return "\(seconds) s" }
        let sign = seconds < 0 && milliseconds > 0 ? "-" : ""
        return sign + WebVTTTimestamp.format(Int(milliseconds))
    }

    /// Milliseconds as a JSON number of seconds with at most three decimals and no trailing
    /// zeros: 60500 → "60.5", 0 → "0", 1 → "0.001". For non-negative values.
    static func seconds(milliseconds: Int) -> String {
        let whole = String(milliseconds / 1000)
        var fraction = milliseconds % 1000
        guard fraction != 0 else { return whole }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return whole + "." + String(repeating: "0", count: digits - text.count) + text
    }

    /// A JSON string literal: quotes and backslashes escaped, control characters (and U+2028,
    /// U+2029, which JavaScript source cannot hold raw) written as `\uXXXX`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `text` escaped for WebVTT cue text: `&`, `<` and `>` as character references.
    static func webVTTEscaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}
