/// The master (multivariant) playlist: renditions shared by variants, then the variants (RFC 8216 §4.3.4).
public struct MasterPlaylist: Sendable, Equatable {
    /// Written in this order; players usually start with the first one.
    public var variants: [Variant]
    /// EXT-X-MEDIA lines, written before the variants in this order.
    public var media: [MediaRendition]
    /// Writes EXT-X-INDEPENDENT-SEGMENTS: it then applies to every media playlist.
    public var independentSegments: Bool = true

    public init(variants: [Variant], media: [MediaRendition] = [], independentSegments: Bool = true) {
        self.variants = variants
        self.media = media
        self.independentSegments = independentSegments
    }

    /// Lowest EXT-X-VERSION the tags need (RFC 8216 §7). Nothing written here needs more than 3
    /// (version 7 would be needed only for INSTREAM-ID SERVICE values, which are never written).
    public var version: Int { 3 }

    /// The playlist text, LF line ends:
    /// ```
    /// #EXTM3U
    /// #EXT-X-VERSION:3
    /// #EXT-X-INDEPENDENT-SEGMENTS
    /// #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
    /// #EXT-X-STREAM-INF:BANDWIDTH=5720000,AVERAGE-BANDWIDTH=5100000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=30.000,AUDIO="audio"
    /// 1080p/index.m3u8
    /// ```
    /// Quoted strings lose any double quote, CR or LF; URI lines lose CR and LF.
    public func render() -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(version)"]
        if independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        for rendition in media {
            lines.append("#EXT-X-MEDIA:" + rendition.attributeList)
        }
        for variant in variants {
            lines.append("#EXT-X-STREAM-INF:" + variant.attributeList)
            lines.append(PlaylistText.uriLine(variant.uri))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
