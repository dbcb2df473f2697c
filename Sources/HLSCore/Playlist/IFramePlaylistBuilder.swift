/// Makes an I-frame playlist (EXT-X-I-FRAMES-ONLY, RFC 8216 §4.3.3.6) from the I-frames found in
/// a rendition's segment files: one entry per I-frame, lasting until the next I-frame (the last
/// one until the end of the content), with the byte range that holds it.
public struct IFramePlaylistBuilder: Sendable {
    private struct Entry: Sendable {
        var ticks: Int64
        var timescale: Int
        var uri: String
        var range: ByteRange
    }

    private let wrapBits: Int?
    private var entries: [Entry] = []
    private var lastTicks: Int64?

    /// - Parameter timestampBits: the width of the container's time stamps when they wrap (33 for
    ///   MPEG-TS), so times keep increasing across a wrap; nil when they do not.
    public init(timestampBits: Int? = nil) {
        self.wrapBits = timestampBits
    }

    /// Adds the I-frames of the segment file at `uri` (relative to the I-frame playlist), in order.
    public mutating func add(_ iframes: [IFrameLocation], segmentURI uri: String) {
        for iframe in iframes {
            var ticks = iframe.presentationTime
            if let bits = wrapBits, let last = lastTicks {
                let period = Int64(1) << Int64(bits)
                let base = last - last % period  // the wrap cycle the previous time stamp is in
                // The candidate in the cycle before, this one or the next that lies closest to the last time.
                ticks = [base - period, base, base + period].map { $0 + ticks % period }
                    .min { abs($0 - last) < abs($1 - last) }!
            }
            lastTicks = ticks
            entries.append(Entry(ticks: ticks, timescale: max(1, iframe.timescale), uri: uri, range: iframe.range))
        }
    }

    /// Number of I-frames added.
    public var count: Int { entries.count }

    /// Seconds from the first I-frame to each I-frame.
    public var times: [Double] {
        guard let first = entries.first else { return [] }
        return entries.map { Double($0.ticks - first.ticks) / Double($0.timescale) }
    }

    /// The playlist: VOD, complete, EXT-X-MAP when `mapURI` is given (fMP4). Each entry lasts until
    /// the next I-frame; the last one until `totalDuration` seconds after the first I-frame (the
    /// content's duration, i.e. the sum of the media playlist's EXTINF). Durations are never negative.
    public func playlist(totalDuration: Double, mapURI: String?) -> MediaPlaylist {
        let times = self.times
        var segments: [SegmentRecord] = []
        for (position, entry) in entries.enumerated() {
            let end = position + 1 < times.count ? times[position + 1] : max(totalDuration, times[position])
            var record = SegmentRecord(index: position, uri: entry.uri, duration: max(0, end - times[position]),
                                       byteSize: entry.range.length, startTime: times[position])
            record.byteRange = entry.range
            segments.append(record)
        }
        return MediaPlaylist(segments: segments, kind: .vod, isComplete: true, mediaSequence: 0, mapURI: mapURI,
                             independentSegments: true, iFramesOnly: true)
    }
}
