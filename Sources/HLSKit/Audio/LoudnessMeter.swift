import CLoudness

/// An EBU R128 meter (`hlsify_loudness`, C) for planar float stereo; `deinit` frees it.
final class LoudnessMeter {
    private let meter: OpaquePointer

    /// - Throws: `LibAVError.allocation` when out of memory or the rate is unusable.
    init(sampleRate: Int) throws {
        guard let meter = hlsify_loudness_new(Int32(sampleRate), 2) else { throw LibAVError.allocation("hlsify_loudness_new") }
        self.meter = meter
    }

    deinit { hlsify_loudness_free(meter) }

    /// Adds `count` samples of each of the two planes.
    /// - Throws: `LibAVError.allocation` when out of memory.
    func add(_ planes: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int) throws {
        guard count > 0, let left = planes[0], let right = planes[1] else { return }
        var pointers: [UnsafePointer<Float>?] = [UnsafePointer(left.assumingMemoryBound(to: Float.self)),
                                                 UnsafePointer(right.assumingMemoryBound(to: Float.self))]
        let status = pointers.withUnsafeMutableBufferPointer { hlsify_loudness_add(meter, $0.baseAddress, count) }
        if status != 0 { throw LibAVError.allocation("hlsify_loudness_add") }
    }

    /// What was measured so far.
    var figures: LoudnessFigures {
        let integrated = hlsify_loudness_integrated(meter), peak = hlsify_loudness_true_peak(meter)
        return LoudnessFigures(integrated: integrated.isFinite ? Self.rounded(integrated) : nil,
                               range: Self.rounded(hlsify_loudness_range(meter)),
                               truePeak: peak.isFinite ? Self.rounded(peak) : nil)
    }

    private static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
