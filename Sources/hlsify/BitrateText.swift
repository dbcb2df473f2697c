/// Parses "128k", "2.8M", "96000" into bits per second.
enum BitrateText {
    static func parse(_ text: String) -> Int? {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        var multiplier = 1.0
        var digits = Substring(lower)
        if lower.hasSuffix("k") { multiplier = 1_000; digits = digits.dropLast() }
        else if lower.hasSuffix("m") { multiplier = 1_000_000; digits = digits.dropLast() }
        guard let value = Double(digits), value > 0, value.isFinite else { return nil }
        return Int((value * multiplier).rounded())
    }
}

import Foundation
