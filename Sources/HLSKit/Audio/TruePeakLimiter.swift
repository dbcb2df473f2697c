import CLoudness

/// Gain and a true-peak lookahead limiter (`hlsify_limiter`, C) for planar float stereo; `deinit`
/// frees it. Blocks are processed in order, each seeing the `lookahead` samples after it.
final class TruePeakLimiter {
    private let limiter: OpaquePointer
    let gain: Double

    /// - Throws: `LibAVError.allocation` when out of memory or the rate is unusable.
    init(sampleRate: Int, gain: Double, ceiling: Double) throws {
        guard let limiter = hlsify_limiter_new(Int32(sampleRate), 2, gain, ceiling) else {
            throw LibAVError.allocation("hlsify_limiter_new")
        }
        self.limiter = limiter
        self.gain = gain
    }

    deinit { hlsify_limiter_free(limiter) }

    /// Samples after a block the limiter should see.
    var lookahead: Int { Int(hlsify_limiter_lookahead(limiter)) }

    /// Samples whose gain the limiter lowered (by more than 0.1 dB).
    var limitedSamples: Int64 { hlsify_limiter_limited_samples(limiter) }

    /// Processes the block's `count` samples of both planes in place, seeing `ahead` samples of `next`.
    /// - Throws: `LibAVError.allocation` when out of memory.
    func process(_ block: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int,
                 next: UnsafeMutablePointer<UnsafeMutableRawPointer?>, ahead: Int) throws {
        guard count > 0 else { return }
        var blocks: [UnsafeMutablePointer<Float>?] = [block[0]?.assumingMemoryBound(to: Float.self), block[1]?.assumingMemoryBound(to: Float.self)]
        var nexts: [UnsafePointer<Float>?] = [next[0].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) },
                                              next[1].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }]
        let status = blocks.withUnsafeMutableBufferPointer { b in
            nexts.withUnsafeMutableBufferPointer { n in hlsify_limiter_process(limiter, b.baseAddress, count, n.baseAddress, ahead) }
        }
        if status != 0 { throw LibAVError.allocation("hlsify_limiter_process") }
    }
}
