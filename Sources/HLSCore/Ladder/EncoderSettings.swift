/// Rate control for one x264 encode in average-bitrate mode with a VBV cap.
public struct EncoderSettings: Sendable, Equatable, Codable {
    /// Target average bitrate, bits/s.
    public var bitrate: Int
    /// Peak bitrate the VBV enforces, bits/s.
    public var maxrate: Int
    /// VBV buffer size, bits.
    public var bufsize: Int

    public init(bitrate: Int, maxrate: Int, bufsize: Int) {
        self.bitrate = bitrate
        self.maxrate = maxrate
        self.bufsize = bufsize
    }
}
