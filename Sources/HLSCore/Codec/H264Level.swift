/// H.264 level limits (ITU-T H.264 Annex A, Table A-1) and the choice of the lowest level that fits.
public enum H264Level {
    /// One row of Table A-1. Bit rates are for Baseline/Main (units of 1000 bits/s, CPB in 1000 bits);
    /// High profile allows 1.25 times these (cpbBrVclFactor 1250 instead of 1000, Table A-2).
    public struct Limits: Sendable, Equatable {
        /// level_idc: 31 for level 3.1.
        public let idc: Int
        /// Maximum macroblock processing rate, macroblocks/s.
        public let maxMacroblocksPerSecond: Int
        /// Maximum frame size, macroblocks.
        public let maxFrameSize: Int
        /// Maximum video bit rate, 1000 bits/s (Baseline/Main).
        public let maxBitrate: Int
        /// Maximum coded picture buffer size, 1000 bits (Baseline/Main).
        public let maxCPB: Int
    }

    /// Bit rate factor of High profile over Baseline/Main.
    public static let highProfileFactor = 1.25

    /// Table A-1 without level 1b, lowest first: 1 … 5.2, plus 6, 6.1, 6.2 for pictures above 4K.
    public static let table: [Limits] = [
        Limits(idc: 10, maxMacroblocksPerSecond: 1_485, maxFrameSize: 99, maxBitrate: 64, maxCPB: 175),
        Limits(idc: 11, maxMacroblocksPerSecond: 3_000, maxFrameSize: 396, maxBitrate: 192, maxCPB: 500),
        Limits(idc: 12, maxMacroblocksPerSecond: 6_000, maxFrameSize: 396, maxBitrate: 384, maxCPB: 1_000),
        Limits(idc: 13, maxMacroblocksPerSecond: 11_880, maxFrameSize: 396, maxBitrate: 768, maxCPB: 2_000),
        Limits(idc: 20, maxMacroblocksPerSecond: 11_880, maxFrameSize: 396, maxBitrate: 2_000, maxCPB: 2_000),
        Limits(idc: 21, maxMacroblocksPerSecond: 19_800, maxFrameSize: 792, maxBitrate: 4_000, maxCPB: 4_000),
        Limits(idc: 22, maxMacroblocksPerSecond: 20_250, maxFrameSize: 1_620, maxBitrate: 4_000, maxCPB: 4_000),
        Limits(idc: 30, maxMacroblocksPerSecond: 40_500, maxFrameSize: 1_620, maxBitrate: 10_000, maxCPB: 10_000),
        Limits(idc: 31, maxMacroblocksPerSecond: 108_000, maxFrameSize: 3_600, maxBitrate: 14_000, maxCPB: 14_000),
        Limits(idc: 32, maxMacroblocksPerSecond: 216_000, maxFrameSize: 5_120, maxBitrate: 20_000, maxCPB: 20_000),
        Limits(idc: 40, maxMacroblocksPerSecond: 245_760, maxFrameSize: 8_192, maxBitrate: 20_000, maxCPB: 25_000),
        Limits(idc: 41, maxMacroblocksPerSecond: 245_760, maxFrameSize: 8_192, maxBitrate: 50_000, maxCPB: 62_500),
        Limits(idc: 42, maxMacroblocksPerSecond: 522_240, maxFrameSize: 8_704, maxBitrate: 50_000, maxCPB: 62_500),
        Limits(idc: 50, maxMacroblocksPerSecond: 589_824, maxFrameSize: 22_080, maxBitrate: 135_000, maxCPB: 135_000),
        Limits(idc: 51, maxMacroblocksPerSecond: 983_040, maxFrameSize: 36_864, maxBitrate: 240_000, maxCPB: 240_000),
        Limits(idc: 52, maxMacroblocksPerSecond: 2_073_600, maxFrameSize: 36_864, maxBitrate: 240_000, maxCPB: 240_000),
        Limits(idc: 60, maxMacroblocksPerSecond: 4_177_920, maxFrameSize: 139_264, maxBitrate: 240_000, maxCPB: 240_000),
        Limits(idc: 61, maxMacroblocksPerSecond: 8_355_840, maxFrameSize: 139_264, maxBitrate: 480_000, maxCPB: 480_000),
        Limits(idc: 62, maxMacroblocksPerSecond: 16_711_680, maxFrameSize: 139_264, maxBitrate: 800_000, maxCPB: 800_000),
    ]

    /// Lowest H.264 level (High profile limits of Table A-1: MaxFS, MaxMBPS, MaxBR × 1.25, and each
    /// picture side at most √(8 × MaxFS) macroblocks) that fits width×height at frameRate and
    /// maxBitrate (bits/s). Returns level_idc: 10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42,
    /// 50, 51, 52, 60, 61 or 62; 62 when even that is too small.
    /// 1080p30 at 5.5 Mb/s → 40; 720p30 → 31; 854x480p30 → 31; 1080p60 → 42.
    public static func minimumLevel(width: Int, height: Int, frameRate: Double, maxBitrate: Int) -> Int {
        minimumLevel(width: width, height: height, frameRate: frameRate, maxBitrate: maxBitrate, bufferSize: 0)
    }

    /// As `minimumLevel(width:height:frameRate:maxBitrate:)`, also requiring the VBV buffer
    /// (bufferSize, bits) to fit MaxCPB × 1.25, as x264 checks when told a level.
    public static func minimumLevel(width: Int, height: Int, frameRate: Double, maxBitrate: Int, bufferSize: Int) -> Int {
        let widthInMbs = (max(width, 1) + 15) / 16, heightInMbs = (max(height, 1) + 15) / 16
        let frameSize = widthInMbs * heightInMbs
        let rate = frameRate.isFinite && frameRate > 0 ? frameRate : 0
        // A relative tolerance absorbs floating noise only (720p at exactly 30 fps is level 3.1).
        let macroblocksPerSecond = Double(frameSize) * rate * (1 - 1e-12)
        let fits = table.first { level in
            let longestSide = Double(8 * level.maxFrameSize).squareRoot()
            return frameSize <= level.maxFrameSize
                && Double(widthInMbs) <= longestSide && Double(heightInMbs) <= longestSide
                && macroblocksPerSecond <= Double(level.maxMacroblocksPerSecond)
                && Double(maxBitrate) <= Double(level.maxBitrate) * 1000 * highProfileFactor
                && Double(bufferSize) <= Double(level.maxCPB) * 1000 * highProfileFactor
        }
        return (fits ?? table[table.count - 1]).idc
    }
}
