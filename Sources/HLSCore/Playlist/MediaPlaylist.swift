/// A media playlist (one rendition's segment list), written by `render()` (RFC 8216 §4.3.3).
public struct MediaPlaylist: Sendable, Equatable {
    /// EXT-X-PLAYLIST-TYPE. A playlist still growing (progressive publishing) is `.event` and
    /// stays `.event` when it is finished: RFC 8216 §6.2.1 lets it only gain segments and EXT-X-ENDLIST.
    public enum Kind: String, Sendable {
        case vod = "VOD", event = "EVENT"
    }

    public var segments: [SegmentRecord]
    public var kind: Kind
    /// Writes EXT-X-ENDLIST: no more segments will be added.
    public var isComplete: Bool
    /// EXT-X-MEDIA-SEQUENCE: the sequence number of the first segment listed.
    public var mediaSequence: Int
    /// EXT-X-MAP URI of the initialization section for fragmented MP4 ("init.mp4"); nil for MPEG-TS.
    public var mapURI: String?
    /// Writes EXT-X-INDEPENDENT-SEGMENTS (every segment starts with an IDR frame).
    public var independentSegments: Bool
    /// A target duration to use when larger than the segments need, so that every rendition
    /// declares the same one.
    public var targetDurationOverride: Int?
    /// Writes EXT-X-I-FRAMES-ONLY: each entry is one I-frame (usually a byte range of a segment
    /// file) lasting until the next one (RFC 8216 §4.3.3.6).
    public var iFramesOnly: Bool

    public init(segments: [SegmentRecord] = [], kind: Kind = .vod, isComplete: Bool = true, mediaSequence: Int = 0,
                mapURI: String? = nil, independentSegments: Bool = true, targetDurationOverride: Int? = nil,
                iFramesOnly: Bool = false) {
        self.segments = segments
        self.kind = kind
        self.isComplete = isComplete
        self.mediaSequence = mediaSequence
        self.mapURI = mapURI
        self.independentSegments = independentSegments
        self.targetDurationOverride = targetDurationOverride
        self.iFramesOnly = iFramesOnly
    }

    /// EXT-X-TARGETDURATION: the longest EXTINF rounded to the nearest integer (halves up), at
    /// least 1, or `targetDurationOverride` when that is larger.
    public var targetDuration: Int {
        let longest = segments.map { Int(Self.extinf($0.duration).rounded()) }.max() ?? 0
        return max(1, longest, targetDurationOverride ?? 0)
    }

    /// Lowest EXT-X-VERSION the tags need (RFC 8216 §7): 3 for decimal EXTINF durations (always
    /// written), 4 for EXT-X-BYTERANGE or EXT-X-I-FRAMES-ONLY, 5 for EXT-X-MAP in an I-frames-only
    /// playlist and 6 for EXT-X-MAP in any other.
    public var version: Int {
        var version = 3
        if iFramesOnly || segments.contains(where: { $0.byteRange != nil }) { version = 4 }
        if mapURI != nil { version = max(version, iFramesOnly ? 5 : 6) }
        return version
    }

    /// Sum of the segment durations, seconds.
    public var totalDuration: Double { segments.reduce(0) { $0 + $1.duration } }

    /// The playlist text, one tag per line, LF line ends, EXTINF with 6 decimals, EXT-X-BYTERANGE
    /// (always with its offset) after the EXTINF of a segment that has one:
    /// ```
    /// #EXTM3U
    /// #EXT-X-VERSION:6
    /// #EXT-X-TARGETDURATION:4
    /// #EXT-X-MEDIA-SEQUENCE:0
    /// #EXT-X-PLAYLIST-TYPE:VOD
    /// #EXT-X-INDEPENDENT-SEGMENTS
    /// #EXT-X-MAP:URI="init.mp4"
    /// #EXTINF:4.000000,
    /// segment-00000.m4s
    /// #EXT-X-ENDLIST
    /// ```
    /// An I-frame playlist has EXT-X-I-FRAMES-ONLY before EXT-X-MAP, and `#EXT-X-BYTERANGE:…` lines.
    /// CR and LF are removed from URIs, double quotes from the EXT-X-MAP URI.
    public func render() -> String {
        var lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:\(version)",
            "#EXT-X-TARGETDURATION:\(targetDuration)",
            "#EXT-X-MEDIA-SEQUENCE:\(mediaSequence)",
            "#EXT-X-PLAYLIST-TYPE:\(kind.rawValue)",
        ]
        if independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        if iFramesOnly { lines.append("#EXT-X-I-FRAMES-ONLY") }
        if let mapURI { lines.append("#EXT-X-MAP:URI=\(PlaylistText.quoted(mapURI))") }
        for segment in segments {
            lines.append("#EXTINF:\(PlaylistText.fixed(Self.extinf(segment.duration), decimals: 6)),")
            if let range = segment.byteRange { lines.append("#EXT-X-BYTERANGE:\(range.attributeValue)") }
            lines.append(PlaylistText.uriLine(segment.uri))
        }
        if isComplete { lines.append("#EXT-X-ENDLIST") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The duration as EXTINF states it: not negative, not NaN, rounded to microseconds (so the
    /// target duration agrees with the text a player reads).
    private static func extinf(_ duration: Double) -> Double {
        guard duration.isFinite, duration > 0 else { return 0 }
        return (duration * 1_000_000).rounded() / 1_000_000
    }
}
