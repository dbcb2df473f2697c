/// The I-frame playlist of a variant: one EXT-X-I-FRAME-STREAM-INF line (RFC 8216 §4.3.4.3),
/// which players use for scrubbing previews and fast forward.
public struct IFrameVariant: Sendable, Equatable {
    /// The I-frame media playlist, relative to the master playlist.
    public var uri: String
    /// BANDWIDTH: peak bit rate of the I-frame entries (their byte ranges over their durations), bits/s.
    public var bandwidth: Int
    /// AVERAGE-BANDWIDTH, bits/s; omitted when not positive.
    public var averageBandwidth: Int
    /// CODECS of the video alone, e.g. ["avc1.64001f"]; omitted when empty.
    public var codecs: [String]
    /// RESOLUTION=WxH; omitted when either is not positive.
    public var width: Int
    public var height: Int
    /// VIDEO-RANGE; omitted when nil.
    public var videoRange: VideoRange?

    public init(uri: String, bandwidth: Int, averageBandwidth: Int, codecs: [String], width: Int, height: Int,
                videoRange: VideoRange? = nil) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.averageBandwidth = averageBandwidth
        self.codecs = codecs
        self.width = width
        self.height = height
        self.videoRange = videoRange
    }

    /// The attribute list after "#EXT-X-I-FRAME-STREAM-INF:" (URI last, as a quoted string).
    var attributeList: String {
        var attributes = PlaylistText.streamAttributes(bandwidth: bandwidth, averageBandwidth: averageBandwidth,
                                                       codecs: codecs, width: width, height: height)
        if let videoRange { attributes.append("VIDEO-RANGE=\(videoRange.rawValue)") }
        attributes.append("URI=\(PlaylistText.quoted(PlaylistText.uriLine(uri)))")
        return attributes.joined(separator: ",")
    }
}
