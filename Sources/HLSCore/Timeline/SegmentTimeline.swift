/// Where segments are cut, decided once from source time: boundary k sits at
/// k × segment duration after the first video timestamp. Integer microseconds, so every
/// rendition computes the same index for the same instant.
public struct SegmentTimeline: Sendable, Equatable {
    /// Segment duration in microseconds (at least 1 ms).
    public let durationMicroseconds: Int64

    /// - Parameter seconds: the target segment duration; clamped to at least 1 ms.
    public init(seconds: Double) {
        durationMicroseconds = max(1000, Int64((seconds * 1_000_000).rounded()))
    }

    public var seconds: Double { Double(durationMicroseconds) / 1_000_000 }

    /// The segment an instant belongs to: the number of boundaries after the first (at zero)
    /// that are at or before it. Instants before zero belong to segment 0.
    public func index(atMicroseconds offset: Int64) -> Int {
        offset <= 0 ? 0 : Int(offset / durationMicroseconds)
    }

    /// Start of segment `index`, in seconds after the first video timestamp.
    public func boundary(_ index: Int) -> Double {
        Double(startMicroseconds(ofSegment: index)) / 1_000_000
    }

    /// Start of segment `index`, in microseconds after the first video timestamp.
    public func startMicroseconds(ofSegment index: Int) -> Int64 {
        Int64(index) * durationMicroseconds
    }
}
