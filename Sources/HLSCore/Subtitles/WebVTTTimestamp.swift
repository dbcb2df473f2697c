/// WebVTT timestamps: `HH:MM:SS.mmm`, hours at least two digits and as many more as needed.
public enum WebVTTTimestamp {
    /// Formats milliseconds; negative values are written as 0.
    public static func format(_ milliseconds: Int) -> String {
        let ms = max(0, milliseconds)
        let hours = ms / 3_600_000
        let minutes = ms / 60_000 % 60
        let seconds = ms / 1000 % 60
        return "\(pad(hours, 2)):\(pad(minutes, 2)):\(pad(seconds, 2)).\(pad(ms % 1000, 3))"
    }

    /// Reads `[HH+:]MM:SS.mmm` strictly as the WebVTT spec does (minutes and seconds 00–59,
    /// exactly three fraction digits, hours of two or more digits); nil otherwise.
    public static func parse(_ text: Substring) -> Int? {
        var fields: [Substring] = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3, let last = fields.popLast() else { return nil }
        let secondParts = last.split(separator: ".", omittingEmptySubsequences: false)
        guard secondParts.count == 2 else { return nil }
        fields.append(secondParts[0])
        let fraction = secondParts[1]
        guard fraction.count == 3, let millis = number(fraction) else { return nil }
        var hours = 0
        if fields.count == 3 {
            guard fields[0].count >= 2, fields[0].count <= 12, let h = number(fields[0]) else { return nil }
            hours = h
            fields.removeFirst()
        }
        guard fields[0].count == 2, fields[1].count == 2,
              let minutes = number(fields[0]), let seconds = number(fields[1]),
              minutes < 60, seconds < 60 else { return nil }
        return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
    }

    /// A cue timing line, `start --> end [settings]` (white space around the arrow optional):
    /// both times in milliseconds and what follows the end time; nil when it is not one.
    static func timingLine(_ line: Substring) -> (start: Int, end: Int, rest: Substring)? {
        guard let arrow = line.firstRange(of: "-->") else { return nil }
        let left = line[..<arrow.lowerBound].trimmingPrefix(while: isSpace)
        let startText = left.prefix { !isSpace($0) }
        guard !startText.isEmpty, left.dropFirst(startText.count).allSatisfy(isSpace),
              let start = parse(startText) else { return nil }
        let right = line[arrow.upperBound...].trimmingPrefix(while: isSpace)
        let endText = right.prefix { !isSpace($0) }
        guard let end = parse(endText) else { return nil }
        return (start, end, right.dropFirst(endText.count))
    }

    /// WebVTT's white space within a line: space, tab, form feed.
    static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\u{0C}" }

    private static func number(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(digits)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
