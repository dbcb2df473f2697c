/// Rate control for one x264 encode: a VBV ceiling (maxrate, bufsize) under either an average
/// bitrate (ABR) or a constant quality (CRF).
public struct EncoderSettings: Sendable, Equatable, Codable {
    /// Target average bitrate, bits/s (ABR); with `crf`, the rung's nominal bitrate the cap derives from.
    public var bitrate: Int
    /// Peak bitrate the VBV enforces, bits/s.
    public var maxrate: Int
    /// VBV buffer size, bits.
    public var bufsize: Int
    /// x264 constant rate factor when the rung is encoded at capped constant quality; nil for ABR.
    public var crf: Double?

    public init(bitrate: Int, maxrate: Int, bufsize: Int, crf: Double? = nil) {
        self.bitrate = bitrate
        self.maxrate = maxrate
        self.bufsize = bufsize
        self.crf = crf
    }

    /// `.cappedCRF` when a CRF is set, else `.abr`.
    public var rateControl: RateControl { crf == nil ? .abr : .cappedCRF }
}
