/// An x264 speed preset, fastest first; the raw values are x264's own names.
public enum X264Preset: String, Sendable, CaseIterable {
    case ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo

    /// "ultrafast, superfast, …, placebo": every name, for messages.
    public static var namesText: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
