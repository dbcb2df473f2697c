/// VIDEO-RANGE of a variant (RFC 8216bis §4.4.6.2): the transfer function its video is coded with.
public enum VideoRange: String, Sendable, Equatable, Codable {
    case sdr = "SDR", hlg = "HLG", pq = "PQ"

    /// The range of video whose transfer characteristics (ITU-T H.273 / ISO/IEC 23091-2 code
    /// point, which libavutil's AVColorTransferCharacteristic uses too) is `code`: 16
    /// (SMPTE ST 2084) is PQ, 18 (ARIB STD-B67) is HLG, everything else (BT.709, sRGB,
    /// unspecified, …) is SDR.
    public init(transferCharacteristics code: Int) {
        switch code {
        case 16: self = .pq
        case 18: self = .hlg
        default: self = .sdr
        }
    }
}

/// CLOSED-CAPTIONS of a variant (RFC 8216 §4.3.4.2).
public enum ClosedCaptions: Sendable, Equatable {
    /// The attribute is not written.
    case unspecified
    /// CLOSED-CAPTIONS=NONE: the video carries no CEA-608/708 captions. If one variant says so,
    /// every variant must (RFC 8216 §4.3.4.2).
    case none
    /// CLOSED-CAPTIONS="group": the GROUP-ID of EXT-X-MEDIA CLOSED-CAPTIONS renditions.
    case group(String)
}
