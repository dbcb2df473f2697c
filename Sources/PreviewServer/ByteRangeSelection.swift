/// What a `Range` request field selects from a representation of known size (RFC 9110 §14).
public enum ByteRangeSelection: Equatable, Sendable {
    /// No usable Range field (absent, another unit, malformed, or several ranges): send it all, 200.
    case whole
    /// One satisfiable range: send it, 206, with `Content-Range: bytes first-last/size`.
    case partial(offset: Int, length: Int)
    /// A well-formed range that starts past the end (or a zero suffix): 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Reads `bytes=a-b`, `bytes=a-` and `bytes=-n` against a representation of `size` bytes.
    /// A last position past the end is cut to the end; a suffix longer than the file selects all
    /// of it. Several ranges are served as the whole file (a server may ignore Range), and so is
    /// any malformed field, as RFC 9110 §14.2 asks. Numbers too large for Int saturate.
    public static func select(_ field: String?, size: Int) -> ByteRangeSelection {
        guard let field else { return .whole }
        let trimmed = field.trimming(" \t")
        guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals].lowercased() == "bytes" else { return .whole }
        let spec = trimmed[trimmed.index(after: equals)...].trimming(" \t")
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let firstText = spec[..<dash].trimming(" \t"), lastText = spec[spec.index(after: dash)...].trimming(" \t")

        if firstText.isEmpty {
            guard let suffix = number(lastText) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            let length = min(suffix, size)
            return .partial(offset: size - length, length: length)
        }
        guard let first = number(firstText) else { return .whole }
        var last = size - 1
        if !lastText.isEmpty {
            guard let value = number(lastText) else { return .whole }
            guard value >= first else { return .whole }
            last = min(value, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(offset: first, length: last - first + 1)
    }

    /// ASCII digits as a non-negative Int (saturating at Int.max); nil for anything else.
    private static func number(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for scalar in text.unicodeScalars {
            guard ("0"..."9").contains(scalar) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(scalar.value - 48))
            value = overflow1 || overflow2 ? Int.max : sum
        }
        return value
    }
}
