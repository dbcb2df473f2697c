import Foundation
/// Reads SRT timing lines (`00:01:02,345 --> 00:01:04,000`) as people really write them.
///
/// Accepted: hours of any width up to 9 digits (or none: `MM:SS,mmm`), `,` `.` or `:` before the
/// fraction, a fraction of 1–3+ digits read as a decimal fraction (`,5` is 500 ms, digits past
/// the third are dropped), no fraction at all, minutes and seconds of 1–2 digits, white space
/// around the arrow, arrows `->`, `-->`, `--->` (also with en or em dashes), and anything after
/// the end time (SRT coordinates) once white space separates it.
enum SRTTiming {
    struct Times: Equatable {
        var start: Int
        var end: Int
    }

    /// The two times of a timing line, or nil when the line is not one. Linear in the line.
    static func parse(_ line: Substring) -> Times? {
        var cursor = Cursor(Array(line.unicodeScalars))
        cursor.skipWhitespace()
        guard let start = cursor.timestamp() else { return nil }
        cursor.skipWhitespace()
        guard cursor.arrow() else { return nil }
        cursor.skipWhitespace()
        guard let end = cursor.timestamp() else { return nil }
        guard cursor.atEnd || cursor.peekIsWhitespace else { return nil }
        return Times(start: start, end: end)
    }

    /// True when both timestamps of a timing line carry hours (`HH:MM:SS`), the form every SRT
    /// writer uses; a bare `MM:SS --> MM:SS` inside cue text is more likely text.
    static func hasHours(_ line: Substring) -> Bool {
        let parts = line.components(separatedBy: "-->")
        let sides = parts.count == 2 ? parts : line.components(separatedBy: "->")
        guard sides.count == 2 else { return false }
        return sides.allSatisfy { side in
            side.trimmingCharacters(in: .whitespaces).prefix { $0 != " " && $0 != "\t" }.filter { $0 == ":" }.count >= 2
        }
    }

    /// True for a line that was surely meant as a timing line even though `parse` fails,
    /// so the cue it starts is skipped with a warning instead of its text joining the
    /// previous cue. `atCueStart`: the line follows a blank line or starts the file;
    /// `afterNumber`: it follows a cue number line.
    static func looksLikeBrokenTiming(_ line: Substring, atCueStart: Bool, afterNumber: Bool) -> Bool {
        let text = line.trimmingPrefix(while: \.isWhitespace)
        let hasArrow = text.contains("-->")
        let clockStart = startsWithClock(text)
        if hasArrow && clockStart { return true }
        if hasArrow && (atCueStart || afterNumber) && (text.first?.isASCIIDigit ?? false) { return true }
        return afterNumber && clockStart
    }

    /// True when the line is a cue number: ASCII digits only (white space around allowed).
    static func isCueNumber(_ line: Substring) -> Bool {
        let text = SubtitleLines.trimmingTrailingWhitespace(line.trimmingPrefix(while: \.isWhitespace))
        return !text.isEmpty && text.allSatisfy(\.isASCIIDigit)
    }

    /// `digits ':' digit` at the start.
    private static func startsWithClock(_ text: Substring) -> Bool {
        var sawDigit = false
        var index = text.startIndex
        while index < text.endIndex, text[index].isASCIIDigit {
            sawDigit = true
            index = text.index(after: index)
        }
        guard sawDigit, index < text.endIndex, text[index] == ":" else { return false }
        let next = text.index(after: index)
        return next < text.endIndex && text[next].isASCIIDigit
    }

    /// A read position over the scalars of one line.
    private struct Cursor {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { position >= scalars.count }
        var peekIsWhitespace: Bool { !atEnd && scalars[position].properties.isWhitespace }

        mutating func skipWhitespace() {
            while peekIsWhitespace { position += 1 }
        }

        /// Up to `maxCount` ASCII digits as a number and how many were read (0 when none).
        mutating func digits(maxCount: Int) -> (value: Int, count: Int) {
            var value = 0, count = 0
            while count < maxCount, !atEnd, let digit = scalars[position].asciiDigitValue {
                value = value * 10 + digit
                count += 1
                position += 1
            }
            return (value, count)
        }

        /// Skips digits past a limit; returns true when there were any.
        mutating func skipDigits() -> Bool {
            let before = position
            while !atEnd, scalars[position].asciiDigitValue != nil { position += 1 }
            return position > before
        }

        mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
            guard !atEnd, scalars[position] == scalar else { return false }
            position += 1
            return true
        }

        /// One or more dashes (`-`, en dash, em dash) then `>`.
        mutating func arrow() -> Bool {
            var dashes = 0
            while !atEnd, ["-", "\u{2013}", "\u{2014}"].contains(scalars[position]) {
                dashes += 1
                position += 1
            }
            return dashes > 0 && consume(">")
        }

        /// `[H+:]M:S[(,|.|:)fraction]` in milliseconds, or nil.
        mutating func timestamp() -> Int? {
            var fields: [Int] = []
            let first = digits(maxCount: 9)
            guard first.count > 0, !(skipDigits()) else { return nil }
            fields.append(first.value)
            // Up to two more colon-separated fields of 1–2 digits.
            while fields.count < 3, consume(":") {
                let field = digits(maxCount: 2)
                guard field.count > 0, !skipDigits() else { return nil }
                fields.append(field.value)
            }
            guard fields.count >= 2 else { return nil }
            let hours = fields.count == 3 ? fields[0] : 0
            let minutes = fields[fields.count - 2]
            let seconds = fields[fields.count - 1]
            guard fields.count == 3 || first.count <= 2 else { return nil }  // MM:SS form
            var millis = 0
            let mark = position
            if consume(",") || consume(".") || (fields.count == 3 && consume(":")) {
                let fraction = digits(maxCount: 3)
                if fraction.count == 0 {
                    position = mark  // a lone separator is not part of the time
                } else {
                    _ = skipDigits()
                    millis = fraction.value * [100, 10, 1][fraction.count - 1]
                }
            }
            return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
        }
    }
}


extension Unicode.Scalar {
    var asciiDigitValue: Int? {
        (48...57).contains(value) ? Int(value) - 48 : nil
    }
}
