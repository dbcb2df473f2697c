/// EBU R128 figures of a piece of audio: integrated loudness (LUFS), loudness range (LU) and
/// true peak (dBTP). `nil` loudness or peak: silence (nothing above the absolute gate).
public struct LoudnessFigures: Codable, Sendable, Equatable {
    public var integrated: Double?
    public var range: Double
    public var truePeak: Double?

    public init(integrated: Double?, range: Double, truePeak: Double?) {
        self.integrated = integrated
        self.range = range
        self.truePeak = truePeak
    }
}

/// How loud the audio renditions are made: one gain for the whole source, from its integrated
/// loudness to `target`, and a true-peak limiter holding `ceiling`.
public enum LoudnessNormalization {
    /// The default integrated loudness, LUFS (streaming platforms' −16, not broadcast's −23:
    /// lectures are heard on phones and laptops).
    public static let defaultTarget = -16.0
    /// Targets accepted by `--loudness`.
    public static let acceptedTargets = -40.0 ... -5.0
    /// The true peak promised, dBTP.
    public static let maximumTruePeak = -1.0
    /// Where the limiter holds the true peak, dBTP: 2 dB under the promise, for the AAC encoder's
    /// overshoot (measured up to 2 dB on Big Buck Bunny's audio at 128 kb/s).
    public static let limiterCeiling = -3.0
    /// The most gain applied, dB: a near-silent recording is not raised into its noise floor.
    public static let maximumGain = 30.0

    /// The gain (dB) that takes `input` to `target`: 0 for silence, at most `maximumGain`.
    public static func gain(input: LoudnessFigures, target: Double) -> Double {
        guard let integrated = input.integrated, integrated.isFinite else { return 0 }
        return min(maximumGain, target - integrated)
    }

    /// Why the output misses the target by more than 1 LU or its true peak is above
    /// `maximumTruePeak`, or nil.
    public static func shortfall(input: LoudnessFigures, output: LoudnessFigures, target: Double, gain: Double) -> String? {
        if let peak = output.truePeak, peak > maximumTruePeak {
            return "the AAC encoder's overshoot takes the true peak to \(peak) dBTP, over \(maximumTruePeak) (the limiter holds \(limiterCeiling) dBTP before it)"
        }
        if input.integrated == nil { return "the source is silent" }
        guard let integrated = output.integrated, abs(integrated - target) > 1 else { return nil }
        if gain >= maximumGain, integrated < target { return "the gain stops at +\(Int(maximumGain)) dB (a source this quiet is mostly noise)" }
        if integrated < target { return "the true-peak limiter holds the peaks at \(limiterCeiling) dBTP, which takes loudness off a source with peaks this far above its average" }
        return "the measured output differs from the target"
    }
}

/// What loudness normalisation did to one audio rendition: the target, the gain, the source's
/// and the output's figures (a report's `audio.loudness`, a chunk manifest's audio rendition).
public struct LoudnessOutcome: Codable, Sendable, Equatable {
    /// Integrated loudness aimed at, LUFS.
    public var target: Double
    /// Gain applied before the limiter, dB.
    public var gain: Double
    /// The source's audio, measured before the main pass.
    public var input: LoudnessFigures
    /// What a player gets: the AAC packets written, decoded and measured.
    public var output: LoudnessFigures
    /// Seconds of audio whose level the true-peak limiter lowered.
    public var limitedSeconds: Double
    /// Why `output.integrated` misses `target` by more than 1 LU; nil when it does not.
    public var shortfall: String?

    public init(target: Double, gain: Double, input: LoudnessFigures, output: LoudnessFigures, limitedSeconds: Double,
                shortfall: String?) {
        self.target = target
        self.gain = gain
        self.input = input
        self.output = output
        self.limitedSeconds = limitedSeconds
        self.shortfall = shortfall
    }
}
