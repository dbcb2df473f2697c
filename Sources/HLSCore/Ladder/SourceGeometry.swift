/// The picture a source holds and how it is meant to be shown: coded size, sample aspect ratio
/// (non-square pixels) and the rotation from the container's display matrix.
public struct SourceGeometry: Sendable, Equatable {
    /// Coded picture size in pixels.
    public var width: Int, height: Int
    /// Sample (pixel) aspect ratio; a zero or negative term means square pixels (1:1).
    public var sampleAspectNum: Int, sampleAspectDen: Int
    /// Clockwise degrees the picture must be turned to display upright, always 0, 90, 180 or 270.
    /// Any value set is turned into one of these (-90 → 270, 450 → 90, 95 → 90).
    public var rotation: Int {
        get { storedRotation }
        set { storedRotation = Self.normalized(rotation: newValue) }
    }
    private var storedRotation: Int

    public init(width: Int, height: Int, sampleAspectNum: Int = 1, sampleAspectDen: Int = 1, rotation: Int = 0) {
        self.width = width
        self.height = height
        self.sampleAspectNum = sampleAspectNum
        self.sampleAspectDen = sampleAspectDen
        self.storedRotation = Self.normalized(rotation: rotation)
    }

    /// Width as displayed: the coded width stretched by the sample aspect ratio (rounded to the
    /// nearest pixel), or the coded height when the picture is turned a quarter.
    public var displayWidth: Int { isQuarterTurned ? height : stretchedWidth }

    /// Height as displayed: the coded height, or the stretched width when turned a quarter.
    public var displayHeight: Int { isQuarterTurned ? stretchedWidth : height }

    /// displayWidth / displayHeight from the exact rational (width × SAR) / height, before any rounding.
    /// 0 when the picture has no height.
    public var displayAspect: Double {
        let ratio = displayRatio
        return ratio.den == 0 ? 0 : Double(ratio.num) / Double(ratio.den)
    }

    /// True when the displayed picture is taller than wide (a square picture is not portrait).
    public var isPortrait: Bool {
        let ratio = displayRatio
        return ratio.num < ratio.den
    }

    /// The displayed aspect as a reduced fraction num/den = displayed width / displayed height.
    var displayRatio: (num: Int, den: Int) {
        let sar = effectiveSAR
        let wide = codedWidth * sar.num, tall = codedHeight * sar.den
        let g = gcd(wide, tall)
        let reduced = g == 0 ? (wide, tall) : (wide / g, tall / g)
        return isQuarterTurned ? (reduced.1, reduced.0) : (reduced.0, reduced.1)
    }

    private var isQuarterTurned: Bool { rotation == 90 || rotation == 270 }

    // Sizes are clamped to 2^24 and SAR terms kept at or below 2^20, so no product can overflow.
    private static let sizeLimit = 1 << 24, sarLimit = 1 << 20
    private var codedWidth: Int { min(max(width, 0), Self.sizeLimit) }
    private var codedHeight: Int { min(max(height, 0), Self.sizeLimit) }

    /// The SAR reduced; 1:1 when a term is not positive; approximated over 2^20 when a term is huge.
    private var effectiveSAR: (num: Int, den: Int) {
        guard sampleAspectNum > 0, sampleAspectDen > 0 else { return (1, 1) }
        let g = gcd(sampleAspectNum, sampleAspectDen)
        let num = sampleAspectNum / g, den = sampleAspectDen / g
        guard num > Self.sarLimit || den > Self.sarLimit else { return (num, den) }
        let ratio = min(max(Double(num) / Double(den), 1 / Double(Self.sarLimit)), Double(Self.sarLimit))
        return ratio >= 1 ? (Int(ratio.rounded()), 1) : (1, Int((1 / ratio).rounded()))
    }

    /// Coded width × SAR, rounded to the nearest pixel (halves up).
    private var stretchedWidth: Int {
        let sar = effectiveSAR
        return (codedWidth * sar.num * 2 + sar.den) / (2 * sar.den)
    }

    private static func normalized(rotation: Int) -> Int {
        let quarters = Int((Double(rotation) / 90).rounded())
        return ((quarters % 4) + 4) % 4 * 90
    }
}

/// Greatest common divisor of two non-negative integers (gcd(0, 0) = 0).
func gcd(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
