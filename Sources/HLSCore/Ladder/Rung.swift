/// One step of the bitrate ladder, named by the short side of the displayed picture
/// ("720p" is 1280x720 landscape or 720x1280 portrait), optionally with a video bitrate.
public struct Rung: Hashable, Sendable, CustomStringConvertible {
    /// Short side of the displayed picture in pixels: 1080 for "1080p".
    public var shortSide: Int
    /// Video bitrate in bits/s when the rung names one ("720p@2800k"); nil means the default for the size.
    public var videoBitrate: Int?

    /// Largest short side accepted by `init(parsing:)` (8K).
    public static let maximumShortSide = 4320
    /// Bitrates accepted by `init(parsing:)`, in bits/s. The lower bound catches "720p@2800" meant as kb/s.
    public static let acceptedBitrates = 10_000...1_000_000_000

    /// The default ladder's rungs (`EncodingDefaults.ladder`, auto): 1080p, 720p, 480p, 360p, 240p.
    public static var defaultLadder: [Rung] { EncodingDefaults.ladder.rungs }

    public init(shortSide: Int, videoBitrate: Int? = nil) {
        self.shortSide = shortSide
        self.videoBitrate = videoBitrate
    }

    /// Parses "720p", "720P", "720p@2800k", "720p@2.8M" or "720p@2800000" (surrounding spaces allowed).
    /// The short side must be even, positive and at most 4320; the bitrate within `acceptedBitrates`.
    public init(parsing text: String) throws(LadderError) {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw LadderError("invalid rung \"\(trimmed)\": more than one '@'; write e.g. 720p@2800k")
        }
        self.shortSide = try Self.parseShortSide(parts[0], rung: trimmed)
        self.videoBitrate = parts.count == 2 ? try Self.parseBitrate(parts[1], rung: trimmed) : nil
    }

    /// "720p".
    public var name: String { "\(shortSide)p" }

    /// The text `init(parsing:)` reads back: "720p", "720p@2800k" or "720p@2800500".
    public var description: String {
        guard let bitrate = videoBitrate else { return name }
        return bitrate % 1000 == 0 ? "\(name)@\(bitrate / 1000)k" : "\(name)@\(bitrate)"
    }

    /// Parses a comma-separated ladder such as "1080p, 720p@2500k, 480p" and sorts it from the
    /// largest rung to the smallest. Empty entries and two rungs of the same size are rejected.
    public static func parseLadder(_ text: String) throws(LadderError) -> [Rung] {
        guard !text.trimmingWhitespace().isEmpty else {
            throw LadderError("the ladder is empty; write e.g. 1080p,720p,480p")
        }
        var rungs: [Rung] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = String(item).trimmingWhitespace()
            guard !entry.isEmpty else {
                throw LadderError("invalid ladder \"\(text)\": empty entry between commas; write e.g. 1080p,720p,480p")
            }
            let rung = try Rung(parsing: entry)
            if rungs.contains(where: { $0.shortSide == rung.shortSide }) {
                throw LadderError("invalid ladder \"\(text)\": \(rung.name) appears more than once")
            }
            rungs.append(rung)
        }
        return rungs.sorted { $0.shortSide > $1.shortSide }
    }

    private static func parseShortSide(_ part: Substring, rung: String) throws(LadderError) -> Int {
        let usage = "write a short side in pixels followed by p, e.g. 720p or 720p@2800k"
        guard let last = part.last, last == "p" || last == "P" else {
            throw LadderError("invalid rung \"\(rung)\": \(usage)")
        }
        let digits = part.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw LadderError("invalid rung \"\(rung)\": \(usage)")
        }
        guard let value = Int(digits), value <= maximumShortSide else {
            throw LadderError("invalid rung \"\(rung)\": the largest rung is \(maximumShortSide)p")
        }
        guard value > 0 else {
            throw LadderError("invalid rung \"\(rung)\": the short side must be greater than 0")
        }
        guard value % 2 == 0 else {
            throw LadderError("invalid rung \"\(rung)\": the short side must be even (H.264 4:2:0 needs even sizes), e.g. \(value - 1)p or \(value + 1)p")
        }
        return value
    }

    private static func parseBitrate(_ part: Substring, rung: String) throws(LadderError) -> Int {
        let usage = "write the bitrate as bits/s (2800000), kb/s (2800k) or Mb/s (2.8M)"
        var number = part
        var multiplier = 1
        switch part.last {
        case "k", "K": multiplier = 1_000; number = part.dropLast()
        case "m", "M": multiplier = 1_000_000; number = part.dropLast()
        default: break
        }
        guard let bitrate = exactDecimal(number, times: multiplier) else {
            throw LadderError("invalid rung \"\(rung)\": \(usage)")
        }
        guard acceptedBitrates.contains(bitrate) else {
            let low = acceptedBitrates.lowerBound, high = acceptedBitrates.upperBound
            throw LadderError("invalid rung \"\(rung)\": bitrate \(bitrate) bits/s is outside \(low / 1000)k...\(high / 1_000_000)M; \(usage)")
        }
        return bitrate
    }

    /// "2.8" × 1_000_000 → 2_800_000, computed on integers (rounded to the nearest unit); nil for junk.
    private static func exactDecimal(_ text: Substring, times multiplier: Int) -> Int? {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let whole = pieces.first, !whole.isEmpty,
              whole.count <= 12, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        let fraction = pieces.count == 2 ? pieces[1] : ""
        guard pieces.count == 1 || !fraction.isEmpty, fraction.count <= 6,
              fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        var scale = 1
        for _ in 0..<fraction.count { scale *= 10 }
        let mantissa = Int(whole)! * scale + (fraction.isEmpty ? 0 : Int(fraction)!)
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        return (product + scale / 2) / scale
    }
}
