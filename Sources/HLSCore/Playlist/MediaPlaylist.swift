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

    public init(segments: [SegmentRecord] = [], kind: Kind = .vod, isComplete: Bool = true, mediaSequence: Int = 0,
                mapURI: String? = nil, independentSegments: Bool = true, targetDurationOverride: Int? = nil) {
        self.segments = segments
        self.kind = kind
        self.isComplete = isComplete
        self.mediaSequence = mediaSequence
        self.mapURI = mapURI
        self.independentSegments = independentSegments
        self.targetDurationOverride = targetDurationOverride
    }

    /// EXT-X-TARGETDURATION: the longest EXTINF rounded to the nearest integer (halves up), at
    /// least 1, or `targetDurationOverride` when that is larger.
    public var targetDuration: Int {
        let longest = segments.map { Int(Self.extinf($0.duration).rounded()) }.max() ?? 0
        return max(1, longest, targetDurationOverride ?? 0)
    }

    /// Lowest EXT-X-VERSION the tags need (RFC 8216 §7): 3 for decimal EXTINF durations (always
    /// written), 6 with EXT-X-MAP (in a playlist that is not I-frames only).
    public var version: Int { mapURI == nil ? 3 : 6 }

    /// Sum of the segment durations, seconds.
    public var totalDuration: Double { segments.reduce(0) { $0 + $1.duration } }

    /// The playlist text, one tag per line, LF line ends, EXTINF with 6 decimals:
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
        if let mapURI { lines.append("#EXT-X-MAP:URI=\(PlaylistText.quoted(mapURI))") }
        for segment in segments {
            lines.append("#EXTINF:\(PlaylistText.fixed(Self.extinf(segment.duration), decimals: 6)),")
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
