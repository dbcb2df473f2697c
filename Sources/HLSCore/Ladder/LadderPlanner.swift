/// Turns a ladder and a source picture into the renditions to encode.
public enum LadderPlanner {
    /// Plans one rendition per rung, from the largest to the smallest.
    ///
    /// - Rungs are named by the SHORT side of the displayed picture, so portrait 1080p is 1080x1920.
    /// - Rungs whose short side is above the source's displayed short side are dropped (no
    ///   upscaling; equal is kept). Of two rungs with the same short side the first given is kept.
    /// - If no rung is left, one rendition at the source's own display size rounded DOWN to even
    ///   (at least 2), named "<shortSide>p".
    /// - The long side = short side × display aspect, rounded to the nearest even integer (a tie
    ///   goes down, so a rung equal to the source never grows past it); the display aspect stays
    ///   within 1% whenever the short side is at least 100.
    /// - Encoder settings come from `RungDefaults.settings` (the rung's bitrate if it has one) and
    ///   the level from `H264Level.minimumLevel` for the size, frame rate, maxrate and bufsize.
    /// - A source without a picture (zero width or height) gives no rendition.
    public static func plan(rungs: [Rung], source: SourceGeometry, frameRate: Double) -> [RenditionPlan] {
        plan(ladder: Ladder(rungs), source: source, frameRate: frameRate)
    }

    /// Plans a ladder as `plan(rungs:source:frameRate:)` does, under the given rate control
    /// (`crf` overrides every rung's default CRF). An `auto` ladder that leaves fewer than
    /// `Ladder.autoMinimumVariants` renditions (a source below 360p) gets one more rung below its
    /// smallest: two thirds of its short side, rounded to even, at that size's default bitrate.
    public static func plan(ladder: Ladder, source: SourceGeometry, frameRate: Double,
                            rateControl: RateControl = .abr, crf: Double? = nil) -> [RenditionPlan] {
        var plans = plan(rungs: ladder.rungs, source: source, frameRate: frameRate, rateControl: rateControl, crf: crf)
        if ladder.isAuto, plans.count < Ladder.autoMinimumVariants, let smallest = plans.last {
            let short = min(smallest.width, smallest.height)
            let lower = (short * 2 / 3) & ~1
            if lower >= 2, lower < short {
                plans += plan(rungs: [Rung(shortSide: lower)], source: source, frameRate: frameRate,
                              rateControl: rateControl, crf: crf)
            }
        }
        return plans
    }

    private static func plan(rungs: [Rung], source: SourceGeometry, frameRate: Double,
                             rateControl: RateControl, crf: Double?) -> [RenditionPlan] {
        let ratio = source.displayRatio
        guard ratio.num > 0, ratio.den > 0 else { return [] }
        let portrait = source.isPortrait
        let (longTerm, shortTerm) = portrait ? (ratio.den, ratio.num) : (ratio.num, ratio.den)
        let sourceShort = min(source.displayWidth, source.displayHeight)
        let sourceLong = max(source.displayWidth, source.displayHeight)

        var seen = Set<Int>()
        let kept = rungs
            .filter { $0.shortSide > 0 && $0.shortSide <= sourceShort && seen.insert($0.shortSide).inserted }
            .sorted { $0.shortSide > $1.shortSide }

        func rendition(short: Int, long: Int, bitrate: Int?) -> RenditionPlan {
            let (width, height) = portrait ? (short, long) : (long, short)
            let encoder = RungDefaults.settings(shortSide: short, frameRate: frameRate, bitrate: bitrate,
                                                rateControl: rateControl, crf: crf)
            let level = H264Level.minimumLevel(width: width, height: height, frameRate: frameRate,
                                               maxBitrate: encoder.maxrate, bufferSize: encoder.bufsize)
            return RenditionPlan(name: "\(short)p", width: width, height: height, encoder: encoder, h264Level: level)
        }

        guard !kept.isEmpty else {
            let short = max(2, sourceShort & ~1), long = max(2, sourceLong & ~1)
            return [rendition(short: short, long: long, bitrate: nil)]
        }
        return kept.map { rung in
            let long = nearestEven(rung.shortSide, times: longTerm, over: shortTerm)
            return rendition(short: rung.shortSide, long: max(2, long), bitrate: rung.videoBitrate)
        }
    }

    /// The even integer nearest to value × num / den (all positive), ties going down.
    static func nearestEven(_ value: Int, times num: Int, over den: Int) -> Int {
        // 2k nearest to q/d with ties down: k = ceil(q/(2d) - 1/2) = floor((q + d - 1) / (2d)).
        let (q, overflow) = value.multipliedReportingOverflow(by: num)
        if !overflow, q <= Int.max / 2 - den {
            return (q + den - 1) / (2 * den) * 2
        }
        let exact = Double(value) * Double(num) / Double(den)
        return Int((exact / 2).rounded(.toNearestOrEven)) * 2
    }
}
