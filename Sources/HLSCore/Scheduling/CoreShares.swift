import Foundation

/// How one transcode shares the machine's cores: decoder threads, x264 threads per rung, and a
/// scheduling weight (a nice increment) for each thread the engine owns.
///
/// The work splits about 15% decoding and 85% x264 plus scaling, the latter in proportion to each
/// rung's pixels. When the heaviest rung needs about one core or less (a 1080p/720p/480p ladder on
/// 2 cores needs 1.04), x264's frame threads would only add frames in flight (memory) and
/// synchronisation: the lighter rungs encode on one x264 thread each, and the heaviest, the
/// critical path, on two sliced threads (each frame cut in two slices encoded at once: no more
/// frames in flight, about 0.01 dB less PSNR) so it can borrow the other core whenever the
/// lighter ones wait. Those threads then outnumber the cores, and Linux shares a core equally
/// between runnable threads, which would leave the heaviest rung with half a core while the
/// lighter ones ran ahead and waited. So each thread gets a nice increment that makes its
/// weight proportional to its demand: the kernel's weight falls by 1.25× per nice step.
/// Otherwise rungs get x264 frame threads by their pixel share, rounded up, and every thread
/// keeps its priority.
public struct CoreShares: Sendable, Equatable {
    /// x264 threads per rung, in the order of the pixel counts given.
    public var encoderThreads: [Int]
    /// Whether a rung's x264 threads are sliced threads (slices of one frame) rather than frame threads.
    public var slicedThreads: [Bool]
    /// Nice increment for each rung's thread, same order; 0 for the heaviest.
    public var encoderNice: [Int]
    /// Nice increment for the decoding thread.
    public var decoderNice: Int

    /// Decoding's share of a transcode's CPU time (measured: 13–15% on 1080p sources).
    public static let decodingShare = 0.15
    /// At or below this many cores of demand for the heaviest rung, no rung gets x264 frame
    /// threads (the heaviest gets two sliced threads on 2 or more cores).
    public static let singleThreadLimit = 1.1

    /// - Parameters:
    ///   - rungPixels: width × height of each rung.
    ///   - cores: cores available to the process.
    ///   - decoderThreads: the video decoder's threads (`decoderThreads(cores:)` unless overridden).
    public init(rungPixels: [Int], cores: Int, decoderThreads: Int) {
        let cores = max(1, cores)
        let total = Double(rungPixels.reduce(0) { $0 + max(0, $1) })
        let pixelShares = rungPixels.map { total > 0 ? Double(max(0, $0)) / total : 0 }
        let demand = pixelShares.map { $0 * (1 - Self.decodingShare) * Double(cores) }  // cores per rung
        guard let heaviest = demand.max(), heaviest <= Self.singleThreadLimit,
              rungPixels.count + decoderThreads > cores else {
            encoderThreads = pixelShares.map { max(1, min(cores, Int(($0 * Double(cores)).rounded(.up)))) }
            slicedThreads = rungPixels.map { _ in false }
            encoderNice = rungPixels.map { _ in 0 }
            decoderNice = 0
            return
        }
        let critical = demand.firstIndex(of: heaviest)
        encoderThreads = demand.indices.map { $0 == critical ? min(cores, 2) : 1 }
        slicedThreads = encoderThreads.map { $0 > 1 }
        let decoderDemand = Self.decodingShare * Double(cores) / Double(max(1, decoderThreads))
        let busiest = max(heaviest, decoderDemand)
        encoderNice = demand.map { Self.nice(demand: $0, busiest: busiest) }
        decoderNice = Self.nice(demand: decoderDemand, busiest: busiest)
    }

    /// These shares with the caller's choices applied: `encoderThreads` puts every rung on that
    /// many x264 frame threads and drops the weights; `weighted: false` drops the weights only.
    public func overriding(encoderThreads threads: Int?, weighted: Bool) -> CoreShares {
        var shares = self
        if let threads {
            shares.encoderThreads = encoderThreads.map { _ in threads }
            shares.slicedThreads = slicedThreads.map { _ in false }
        }
        if threads != nil || !weighted {
            shares.encoderNice = encoderNice.map { _ in 0 }
            shares.decoderNice = 0
        }
        return shares
    }

    /// Video decoder threads: decoding's share of the cores, rounded up, at least one. On 2 cores
    /// that is one thread: libavcodec's own choice (cores + 1 frame threads) kept two more 1080p
    /// frame contexts (21 MB) for no speed.
    public static func decoderThreads(cores: Int) -> Int {
        max(1, Int((Double(cores) * decodingShare).rounded(.up)))
    }

    /// The nice increment whose kernel weight (1024 / 1.25^nice) is `demand / busiest` of the
    /// busiest thread's, within 0…19.
    static func nice(demand: Double, busiest: Double) -> Int {
        guard demand > 0, busiest > demand else { return demand > 0 ? 0 : 19 }
        return min(19, max(0, Int((log(busiest / demand) / log(1.25)).rounded())))
    }
}
