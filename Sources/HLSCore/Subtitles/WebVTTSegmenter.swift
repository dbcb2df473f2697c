/// One WebVTT segment of a subtitle rendition.
public struct WebVTTSegment: Sendable, Equatable {
    /// 0-based position in the playlist, the same as the video segment it goes with.
    public var index: Int
    /// Start on the media timeline, in seconds (the span's start).
    public var start: Double
    /// Duration in seconds for `#EXTINF` (the span's duration).
    public var duration: Double
    /// How many cues the segment holds.
    public var cueCount: Int
    /// The complete WebVTT file: header with X-TIMESTAMP-MAP, then its cues.
    public var text: String

    public init(index: Int, start: Double, duration: Double, cueCount: Int, text: String) {
        self.index = index
        self.start = start
        self.duration = duration
        self.cueCount = cueCount
        self.text = text
    }
}

/// The segments of a subtitle rendition and what was dropped on the way.
public struct WebVTTSegmentation: Sendable, Equatable {
    /// One segment per span, in order.
    public var segments: [WebVTTSegment]
    /// Cues dropped or clamped; `line` is nil (cues carry no line).
    public var warnings: [SubtitleWarning]
    /// `#EXT-X-TARGETDURATION`: the longest segment duration rounded to the nearest second
    /// (at least 1), as RFC 8216 requires.
    public var targetDuration: Int

    public init(segments: [WebVTTSegment], warnings: [SubtitleWarning], targetDuration: Int) {
        self.segments = segments
        self.warnings = warnings
        self.targetDuration = targetDuration
    }
}

/// Cuts cues into one WebVTT file per media segment, for an HLS subtitle rendition.
///
/// Every span gets a segment, including spans with no cue (a header-only WebVTT file). A cue
/// goes into every segment it overlaps, with its original times, so one crossing a boundary
/// appears in both. Segment k takes cues overlapping [start k, start k+1); the first also takes
/// everything before its start and the last everything up to `totalDuration`. A cue starting at
/// or after `totalDuration` is dropped with a warning; a cue starting before 0 is clamped to 0
/// (warning), or dropped if it also ends at or before 0. Each file's header carries the
/// X-TIMESTAMP-MAP. Cue times are compared in whole milliseconds (span times are rounded).
///
/// Cost: O(c log c + c log s) plus the text written, for c cues and s spans.
public struct WebVTTSegmenter: Sendable {
    public init() {}

    /// Segments `cues` along `spans`.
    /// - Parameters:
    ///   - spans: the media segments in order (see `SubtitleSegmentSpan.uniform` for even cuts).
    ///   - totalDuration: the media's total duration in seconds.
    ///   - timestampMap: written into every segment's header.
    /// - Throws: `SubtitleError.invalidSegmentation` when there are no spans, a time is negative
    ///   or not finite, a span does not end after it starts, starts do not increase, or
    ///   `totalDuration` is not positive.
    public func segment(_ cues: [SubtitleCue], spans: [SubtitleSegmentSpan], totalDuration: Double,
                        timestampMap: WebVTTTimestampMap) throws(SubtitleError) -> WebVTTSegmentation {
        try validate(spans: spans, totalDuration: totalDuration)
        let totalMs = milliseconds(totalDuration)
        // Window k is [lower k, lower k+1); the last ends at max(its end, total).
        let lowers = spans.indices.map { $0 == 0 ? Int.min : milliseconds(spans[$0].start) }

        var warnings: [SubtitleWarning] = []
        var perSegment = Array(repeating: [SubtitleCue](), count: spans.count)
        let sorted = cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
        for (_, original) in sorted {
            var cue = original
            let label = "cue \(WebVTTTimestamp.format(cue.start)) --> \(WebVTTTimestamp.format(cue.end))"
            if cue.start < 0 {
                guard cue.end > 0 else {
                    warnings.append(SubtitleWarning(line: nil, message: "\(label) ends before the media starts; dropped"))
                    continue
                }
                warnings.append(SubtitleWarning(line: nil, message: "\(label) starts before the media; start set to 0"))
                cue.start = 0
            }
            guard cue.start < totalMs else {
                warnings.append(SubtitleWarning(
                    line: nil,
                    message: "\(label) starts after the end of the media (\(WebVTTTimestamp.format(totalMs))); dropped"))
                continue
            }
            // First window whose next lower bound is beyond the cue's start.
            var k = upperBound(lowers, cue.start) - 1
            perSegment[k].append(cue)
            k += 1
            while k < spans.count, lowers[k] < cue.end {
                perSegment[k].append(cue)
                k += 1
            }
        }

        let writer = WebVTTWriter(headerLines: [timestampMap.headerLine])
        let segments = spans.enumerated().map { index, span in
            WebVTTSegment(index: index, start: span.start, duration: span.duration,
                          cueCount: perSegment[index].count, text: writer.render(perSegment[index]))
        }
        let longest = spans.map(\.duration).max() ?? 0
        return WebVTTSegmentation(segments: segments, warnings: warnings,
                                  targetDuration: max(1, Int(longest.rounded())))
    }

    private func validate(spans: [SubtitleSegmentSpan], totalDuration: Double) throws(SubtitleError) {
        guard totalDuration.isFinite, totalDuration > 0 else {
            throw .invalidSegmentation("total duration \(totalDuration) is not a positive number of seconds")
        }
        guard !spans.isEmpty else { throw .invalidSegmentation("no segment spans") }
        for (index, span) in spans.enumerated() {
            guard span.start.isFinite, span.end.isFinite, span.start >= 0, span.end > span.start else {
                throw .invalidSegmentation("segment \(index) spans \(span.start)–\(span.end) s")
            }
            if index > 0, milliseconds(span.start) <= milliseconds(spans[index - 1].start) {
                throw .invalidSegmentation("segment \(index) starts at \(span.start) s, not after segment \(index - 1)")
            }
        }
    }

    /// Seconds to whole milliseconds, rounded, saturating far outside any real media length.
    private func milliseconds(_ seconds: Double) -> Int {
        let ms = (seconds * 1000).rounded()
        return ms >= 9e15 ? 9_000_000_000_000_000 : Int(ms)
    }

    /// Index of the first element greater than `value` in ascending `values`.
    private func upperBound(_ values: [Int], _ value: Int) -> Int {
        var low = 0, high = values.count
        while low < high {
            let mid = (low + high) / 2
            if values[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
