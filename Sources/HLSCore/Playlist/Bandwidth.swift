/// Bit rates of a rendition as HLS declares them, bits/s.
public struct BandwidthStats: Sendable, Equatable, Codable {
    /// Peak segment bit rate: the BANDWIDTH attribute.
    public var peak: Int
    /// Average segment bit rate: the AVERAGE-BANDWIDTH attribute.
    public var average: Int

    public init(peak: Int, average: Int) {
        self.peak = peak
        self.average = average
    }

    /// Renditions played together (a video variant and its audio) add up: BANDWIDTH is the sum of
    /// the peaks, AVERAGE-BANDWIDTH the sum of the averages (RFC 8216 §4.3.4.2).
    public static func + (lhs: BandwidthStats, rhs: BandwidthStats) -> BandwidthStats {
        BandwidthStats(peak: lhs.peak + rhs.peak, average: lhs.average + rhs.average)
    }
}

/// Measures the bit rates HLS asks a variant to declare.
public enum Bandwidth {
    /// RFC 8216 §4.3.4.2: average = total bits / total duration; peak = largest bit rate of any
    /// contiguous set of segments whose total duration is between 0.5 and 1.5 × target duration
    /// (if no window qualifies, e.g. a single short segment, the largest single-segment rate).
    /// Both rounded up to an integer. The peak is never below the average (a window set that
    /// misses an over-long segment could otherwise say so). Segments without a positive duration
    /// add bytes to their windows but cannot form a rate alone; no segments give 0 and 0.
    public static func measure(_ segments: [SegmentRecord], targetDuration: Int) -> BandwidthStats {
        let durations = segments.map { $0.duration.isFinite ? max($0.duration, 0) : 0 }
        let bits = segments.map { Double(max($0.byteSize, 0)) * 8 }
        let totalDuration = durations.reduce(0, +)
        guard totalDuration > 0 else { return BandwidthStats(peak: 0, average: 0) }
        let average = roundUp(bits.reduce(0, +) / totalDuration)

        // Comparisons allow a nanosecond of floating noise in the summed durations.
        let slack = 1e-9
        let shortest = 0.5 * Double(targetDuration) - slack, longest = 1.5 * Double(targetDuration) + slack
        var windowPeak: Double?
        for start in segments.indices {
            var duration = 0.0, size = 0.0
            for end in start..<segments.count {
                duration += durations[end]
                size += bits[end]
                if duration > longest { break }
                if duration >= shortest, duration > 0 {
                    windowPeak = max(windowPeak ?? 0, size / duration)
                }
            }
        }
        let singlePeak = segments.indices.filter { durations[$0] > 0 }.map { bits[$0] / durations[$0] }.max() ?? 0
        let peak = roundUp(windowPeak ?? singlePeak)
        return BandwidthStats(peak: max(peak, average), average: average)
    }

    /// Rounds up, except that a value within a millionth of an integer is taken as that integer
    /// (8000.000000001 bits/s from summing 0.1 s durations is 8000, not 8001).
    static func roundUp(_ value: Double) -> Int {
        let nearest = value.rounded()
        return Int(abs(value - nearest) < 1e-6 ? nearest : value.rounded(.up))
    }
}
