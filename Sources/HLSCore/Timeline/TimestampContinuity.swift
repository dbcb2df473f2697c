/// Keeps one stream's timestamps going forward when the source's clock jumps back (two
/// recordings joined, a recorder's timestamps reset): from a jump on, every timestamp of the stream
/// is moved by the offset that makes the first packet after it follow the last one before it.
///
/// A jump is a decode timestamp more than `threshold` ticks before the previous one (B-frame
/// reordering never moves decode timestamps back, and jitter stays far under a second). Each
/// stream of a file is kept by its own instance: joined recordings end their audio and video at
/// about the same time, so the streams stay in step within that difference.
public struct TimestampContinuity: Sendable, Equatable {
    /// Ticks a decode timestamp may fall back before it counts as a jump.
    public let threshold: Int64
    /// Ticks added to every timestamp of the stream from the last jump on.
    public private(set) var offset: Int64 = 0
    private var lastDecode: Int64?
    private var lastEnd: Int64?

    public init(threshold: Int64) {
        self.threshold = max(1, threshold)
    }

    /// The offset for a packet with decode timestamp `decode` (nil: unknown, the current offset)
    /// lasting `duration` ticks, and how far the source jumped when this packet starts a jump
    /// (negative ticks: back), else nil.
    public mutating func adjust(decode: Int64?, duration: Int64) -> (offset: Int64, jump: Int64?) {
        guard let decode else { return (offset, nil) }
        var adjusted = decode + offset
        var jump: Int64?
        if let lastDecode, let lastEnd, adjusted < lastDecode - threshold {
            jump = adjusted - lastEnd
            offset += lastEnd - adjusted
            adjusted = lastEnd
        }
        lastDecode = adjusted
        lastEnd = max(lastEnd ?? adjusted, adjusted + max(0, duration))
        return (offset, jump)
    }
}
