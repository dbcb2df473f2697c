/// Loudness normalisation decided before the main pass (`LoudnessAnalysis`): the source's
/// figures and the one gain every audio rendition gets (with the true-peak limiter).
struct LoudnessPlan {
    var target: Double
    var input: LoudnessFigures
    var gain: Double
}
