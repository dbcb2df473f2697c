/// One variant stream of the master playlist: an EXT-X-STREAM-INF line and its URI (RFC 8216 §4.3.4.2).
public struct Variant: Sendable, Equatable {
    /// The variant's media playlist, relative to the master playlist.
    public var uri: String
    /// BANDWIDTH: peak bit rate of the variant with its audio, bits/s.
    public var bandwidth: Int
    /// AVERAGE-BANDWIDTH, bits/s; omitted when not positive.
    public var averageBandwidth: Int
    /// CODECS, e.g. ["avc1.64001f", "mp4a.40.2"]; omitted when empty.
    public var codecs: [String]
    /// RESOLUTION=WxH; omitted when either is not positive (audio only).
    public var width: Int
    public var height: Int
    /// FRAME-RATE with 3 decimals; omitted when nil.
    public var frameRate: Double?
    /// GROUP-ID of the audio renditions to play with this variant.
    public var audioGroup: String?
    /// GROUP-ID of the subtitle renditions.
    public var subtitlesGroup: String?
    /// VIDEO-RANGE; omitted when nil (audio only).
    public var videoRange: VideoRange?
    /// CLOSED-CAPTIONS; omitted when `.unspecified`.
    public var closedCaptions: ClosedCaptions

    public init(uri: String, bandwidth: Int, averageBandwidth: Int, codecs: [String], width: Int, height: Int,
                frameRate: Double? = nil, audioGroup: String? = nil, subtitlesGroup: String? = nil,
                videoRange: VideoRange? = nil, closedCaptions: ClosedCaptions = .unspecified) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.averageBandwidth = averageBandwidth
        self.codecs = codecs
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.audioGroup = audioGroup
        self.subtitlesGroup = subtitlesGroup
        self.videoRange = videoRange
        self.closedCaptions = closedCaptions
    }

    /// The attribute list after "#EXT-X-STREAM-INF:".
    var attributeList: String {
        var attributes = PlaylistText.streamAttributes(bandwidth: bandwidth, averageBandwidth: averageBandwidth,
                                                       codecs: codecs, width: width, height: height)
        if let frameRate, frameRate.isFinite, frameRate > 0 {
            attributes.append("FRAME-RATE=\(PlaylistText.fixed(frameRate, decimals: 3))")
        }
        if let videoRange { attributes.append("VIDEO-RANGE=\(videoRange.rawValue)") }
        if let audioGroup { attributes.append("AUDIO=\(PlaylistText.quoted(audioGroup))") }
        if let subtitlesGroup { attributes.append("SUBTITLES=\(PlaylistText.quoted(subtitlesGroup))") }
        switch closedCaptions {
        case .unspecified: break
        case .none: attributes.append("CLOSED-CAPTIONS=NONE")
        case .group(let id): attributes.append("CLOSED-CAPTIONS=\(PlaylistText.quoted(id))")
        }
        return attributes.joined(separator: ",")
    }
}
