/// How x264 spends bits in a rung. The raw values are the command-line and job names.
public enum RateControl: String, Sendable, Codable, CaseIterable {
    /// Constant quality (x264 CRF, per rung `RungDefaults.crf`) under the rung's maxrate/bufsize
    /// as a ceiling: a slide deck costs what its pictures need, a football match no more than
    /// the fixed ladder's peak.
    case cappedCRF = "capped-crf"
    /// Average bitrate: every rung spends its target bitrate whatever the picture (the VBV caps peaks).
    case abr

    /// "capped-crf, abr": every name, for messages.
    public static var namesText: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
