/// The `X-TIMESTAMP-MAP` header that ties WebVTT cue times to the media's presentation
/// timestamps in an HLS rendition: cue time `local` is shown at PTS `mpegts` (90 kHz).
public struct WebVTTTimestampMap: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Presentation timestamp in 90 kHz units (usually the first video frame's PTS).
    public var mpegts: Int64
    /// Cue time in milliseconds that corresponds to `mpegts` (usually 0).
    public var local: Int

    public init(mpegts: Int64, local: Int = 0) {
        self.mpegts = mpegts
        self.local = local
    }

    /// Reads a value such as `MPEGTS:900000,LOCAL:00:00:00.000` (either order, the
    /// `X-TIMESTAMP-MAP=` prefix allowed); nil when malformed or MPEGTS is negative.
    public init?(_ value: String) {
        var text = Substring(value)
        if text.hasPrefix("X-TIMESTAMP-MAP=") { text = text.dropFirst("X-TIMESTAMP-MAP=".count) }
        var mpegts: Int64?, local: Int?
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if part.hasPrefix("MPEGTS:"), mpegts == nil, let v = Int64(part.dropFirst(7)), v >= 0 {
                mpegts = v
            } else if part.hasPrefix("LOCAL:"), local == nil, let v = WebVTTTimestamp.parse(part.dropFirst(6)) {
                local = v
            } else {
                return nil
            }
        }
        guard let mpegts, let local else { return nil }
        self.init(mpegts: mpegts, local: local)
    }

    /// `MPEGTS:<n>,LOCAL:<HH:MM:SS.mmm>`.
    public var description: String {
        "MPEGTS:\(mpegts),LOCAL:\(WebVTTTimestamp.format(local))"
    }

    /// The full header line, `X-TIMESTAMP-MAP=MPEGTS:<n>,LOCAL:<HH:MM:SS.mmm>`.
    public var headerLine: String { "X-TIMESTAMP-MAP=" + description }
}
