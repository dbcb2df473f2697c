/// The master (multivariant) playlist: renditions shared by variants, then the variants (RFC 8216 §4.3.4).
public struct MasterPlaylist: Sendable, Equatable {
    /// Written in this order; players usually start with the first one.
    public var variants: [Variant]
    /// EXT-X-MEDIA lines, written before the variants in this order.
    public var media: [MediaRendition]
    /// EXT-X-I-FRAME-STREAM-INF lines, written after the variants in this order.
    public var iFrameVariants: [IFrameVariant]
    /// Writes EXT-X-INDEPENDENT-SEGMENTS: it then applies to every media playlist.
    public var independentSegments: Bool = true
    /// EXT-X-SESSION-DATA lines (chapters and the like), written before the EXT-X-MEDIA lines in
    /// this order. They need no particular EXT-X-VERSION.
    public var sessionData: [SessionData] = []

    public init(variants: [Variant], media: [MediaRendition] = [], iFrameVariants: [IFrameVariant] = [],
                independentSegments: Bool = true, sessionData: [SessionData] = []) {
        self.variants = variants
        self.media = media
        self.iFrameVariants = iFrameVariants
        self.independentSegments = independentSegments
        self.sessionData = sessionData
    }

    /// Lowest EXT-X-VERSION the master's features need.
    ///
    /// RFC 8216 §7 makes no tag or attribute written here require more than version 1 (only
    /// INSTREAM-ID SERVICE values need 7, and they are never written): the EXT-X-MEDIA tag and the
    /// AUDIO and SUBTITLES attributes are backward compatible, "but playback on older clients may
    /// not be desirable. A server MAY consider indicating an EXT-X-VERSION of 4 or higher in a
    /// Master Playlist". So: 4 when the master uses those or lists I-frame playlists (themselves
    /// version 4 or 5 features, introduced with protocol version 4), 1 otherwise.
    public var version: Int {
        let usesVersion4Features = !media.isEmpty || !iFrameVariants.isEmpty
            || variants.contains { $0.audioGroup != nil || $0.subtitlesGroup != nil }
        return usesVersion4Features ? 4 : 1
    }

    /// The playlist text, LF line ends:
    /// ```
    /// #EXTM3U
    /// #EXT-X-VERSION:4
    /// #EXT-X-INDEPENDENT-SEGMENTS
    /// #EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="chapters.json"
    /// #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
    /// #EXT-X-STREAM-INF:BANDWIDTH=5720000,AVERAGE-BANDWIDTH=5100000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=30.000,VIDEO-RANGE=SDR,AUDIO="audio",CLOSED-CAPTIONS=NONE
    /// 1080p/index.m3u8
    /// #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=480000,AVERAGE-BANDWIDTH=260000,CODECS="avc1.640028",RESOLUTION=1920x1080,VIDEO-RANGE=SDR,URI="1080p/iframes.m3u8"
    /// ```
    /// Quoted strings lose any double quote, CR or LF; URI lines lose CR and LF.
    public func render() -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(version)"]
        if independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        for data in sessionData {
            lines.append("#EXT-X-SESSION-DATA:" + data.attributeList)
        }
        for rendition in media {
            lines.append("#EXT-X-MEDIA:" + rendition.attributeList)
        }
        for variant in variants {
            lines.append("#EXT-X-STREAM-INF:" + variant.attributeList)
            lines.append(PlaylistText.uriLine(variant.uri))
        }
        for iFrames in iFrameVariants {
            lines.append("#EXT-X-I-FRAME-STREAM-INF:" + iFrames.attributeList)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
