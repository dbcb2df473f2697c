/// One finished media segment as a segmenter reports it; playlists are written from a list of these.
public struct SegmentRecord: Sendable, Equatable, Codable {
    /// 0-based position in the rendition.
    public var index: Int
    /// Relative to the media playlist, e.g. "segment-00000.m4s".
    public var uri: String
    /// Measured duration, seconds.
    public var duration: Double
    /// Size of the segment, bytes: the file, or the byte range when there is one.
    public var byteSize: Int
    /// Start on the presentation timeline, seconds.
    public var startTime: Double
    /// The part of the file at `uri` this segment is (EXT-X-BYTERANGE); nil for the whole file.
    public var byteRange: ByteRange?

    public init(index: Int, uri: String, duration: Double, byteSize: Int, startTime: Double, byteRange: ByteRange? = nil) {
        self.index = index
        self.uri = uri
        self.duration = duration
        self.byteSize = byteSize
        self.startTime = startTime
        self.byteRange = byteRange
    }
}
