/// Default video bitrates and VBV settings per rung.
public enum RungDefaults {
    /// Bitrate (bits/s, at up to 30 fps) for the anchor short sides:
    ///
    /// | short side | bitrate    |
    /// |-----------:|-----------:|
    /// | 2160       | 16000 kb/s |
    /// | 1440       |  9000 kb/s |
    /// | 1080       |  5000 kb/s |
    /// | 720        |  2800 kb/s |
    /// | 480        |  1400 kb/s |
    /// | 360        |   800 kb/s |
    /// | 240        |   400 kb/s |
    static let anchors: [(shortSide: Int, bitrate: Int)] = [
        (240, 400_000), (360, 800_000), (480, 1_400_000), (720, 2_800_000),
        (1080, 5_000_000), (1440, 9_000_000), (2160, 16_000_000),
    ]

    /// Rates above this many frames per second get `highFrameRateFactor` times the bitrate.
    /// Slightly above 30 (30.5) so that a measured 30.0003 fps is still treated as 30.
    public static let highFrameRateThreshold = 30.5
    /// 1.5: a 60 fps picture needs about half again the bits of the same picture at 30 fps.
    public static let highFrameRateFactor = 1.5
    /// No default bitrate goes below this (bits/s).
    public static let minimumBitrate = 64_000

    /// Default bitrate (bits/s) for a short side at up to 30 fps. Between anchors it is interpolated
    /// linearly in pixel count (short side squared, as every rung has the same shape); below 240 and
    /// above 2160 it keeps the bits per pixel of the nearest anchor, never under `minimumBitrate`.
    /// Rounded to whole kb/s.
    public static func bitrate(shortSide: Int) -> Int {
        let pixels = Double(max(shortSide, 0)) * Double(max(shortSide, 0))
        func area(_ side: Int) -> Double { Double(side) * Double(side) }
        let first = anchors[0], last = anchors[anchors.count - 1]
        let value: Double
        if shortSide <= first.shortSide {
            value = Double(first.bitrate) * pixels / area(first.shortSide)
        } else if shortSide >= last.shortSide {
            value = Double(last.bitrate) * pixels / area(last.shortSide)
        } else {
            let upper = anchors.firstIndex { $0.shortSide >= shortSide }!
            let low = anchors[upper - 1], high = anchors[upper]
            let t = (pixels - area(low.shortSide)) / (area(high.shortSide) - area(low.shortSide))
            value = Double(low.bitrate) + t * Double(high.bitrate - low.bitrate)
        }
        return max(minimumBitrate, Int((value / 1000).rounded()) * 1000)
    }

    /// x264 CRF per anchor short side for capped constant quality (measured: Benchmarks/RESULTS.md,
    /// "Capped constant quality: the decisions"): per rung the highest CRF whose SSIM stays within
    /// 0.001 of the fixed ladder's on slides and high motion within +10% bytes (a screen recording
    /// loses 0.0009–0.0015); below 480p 480p's, not measured separately.
    static let crfAnchors: [(shortSide: Int, crf: Double)] = [
        (240, 17), (360, 17), (480, 17), (720, 16), (1080, 18),
    ]

    /// CRFs accepted from a job or a command line (x264's 8-bit range without lossless, which
    /// the High profile cannot carry).
    public static let acceptedCRFs: ClosedRange<Double> = 1...51

    /// "between 1 and 51": `acceptedCRFs`, for messages.
    public static var acceptedCRFsText: String {
        "between \(Int(acceptedCRFs.lowerBound)) and \(Int(acceptedCRFs.upperBound))"
    }

    /// Default CRF for a short side: the anchor at or below it (the smallest anchor's below 240).
    public static func crf(shortSide: Int) -> Double {
        crfAnchors.last { $0.shortSide <= shortSide }?.crf ?? crfAnchors[0].crf
    }

    /// Rate control for a rendition of the given short side.
    ///
    /// - bitrate: the given one (used as is), else `bitrate(shortSide:)`, times 1.5 above 30 fps.
    /// - maxrate = 1.1 × bitrate: the declared peak BANDWIDTH stays close to the average, so a
    ///   player on a slow link that picks a variant by BANDWIDTH is not surprised by 2× spikes.
    /// - bufsize = 2 × bitrate (about 1.8 s at maxrate): lets scene cuts and slide changes borrow
    ///   bits locally while every segment of several seconds stays near maxrate.
    /// - `.cappedCRF`: the same ceiling, under `crf` when given, else `crf(shortSide:)`.
    public static func settings(shortSide: Int, frameRate: Double, bitrate: Int? = nil,
                                rateControl: RateControl = .abr, crf: Double? = nil) -> EncoderSettings {
        var target = bitrate ?? Self.bitrate(shortSide: shortSide)
        if bitrate == nil, frameRate.isFinite, frameRate > highFrameRateThreshold {
            target = Int((Double(target) * highFrameRateFactor).rounded())
        }
        let quality = rateControl == .cappedCRF ? (crf ?? Self.crf(shortSide: shortSide)) : nil
        return EncoderSettings(bitrate: target, maxrate: (target * 11 + 5) / 10, bufsize: target * 2, crf: quality)
    }
}
