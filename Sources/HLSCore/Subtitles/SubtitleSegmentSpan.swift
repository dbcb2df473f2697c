/// Where one media segment lies on the media timeline, in seconds, as the video segmenter
/// reports it. The subtitle segment with the same index covers the same span.
public struct SubtitleSegmentSpan: Sendable, Equatable, Hashable {
    /// Start in seconds from the start of the media (0 for the first segment).
    public var start: Double
    /// End in seconds.
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }

    public init(start: Double, duration: Double) {
        self.init(start: start, end: start + duration)
    }

    /// `end - start`.
    public var duration: Double { end - start }

    /// The spans of written media segments, the first starting no earlier than 0: an audio
    /// rendition's first segment begins with the AAC encoder's priming, a few ms before the media.
    public static func spans(of records: [SegmentRecord]) -> [SubtitleSegmentSpan] {
        records.map { SubtitleSegmentSpan(start: max(0, $0.startTime), end: max(0, $0.startTime + $0.duration)) }
    }

    /// The most spans `uniform` makes (over 11 days of 1-second segments).
    public static let maxUniformCount = 1_000_000

    /// Spans of `segmentDuration` seconds from 0 covering `totalDuration`, the last one shorter
    /// when it does not divide evenly (boundary k at k × segmentDuration, as the design cuts
    /// video). Empty when either value is not positive and finite, or when it would take more
    /// than `maxUniformCount` spans. Cost: linear in the number of spans.
    public static func uniform(segmentDuration: Double, totalDuration: Double) -> [SubtitleSegmentSpan] {
        guard segmentDuration.isFinite, totalDuration.isFinite, segmentDuration > 0, totalDuration > 0,
              (totalDuration / segmentDuration).rounded(.up) <= Double(maxUniformCount)
        else { return [] }
        var spans: [SubtitleSegmentSpan] = []
        var k = 0
        while Double(k) * segmentDuration < totalDuration {
            let start = Double(k) * segmentDuration
            spans.append(SubtitleSegmentSpan(start: start, end: min(Double(k + 1) * segmentDuration, totalDuration)))
            k += 1
        }
        // Drop a sliver left by rounding (under a millisecond).
        if spans.count > 1, let last = spans.last, last.duration < 0.001 {
            spans.removeLast()
            spans[spans.count - 1].end = totalDuration
        }
        return spans
    }
}
