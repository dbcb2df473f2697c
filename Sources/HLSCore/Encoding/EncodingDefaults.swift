/// The one home of the encoding defaults: the engine's `TranscodeOptions`, the worker's job
/// defaults and both command lines (and their help) read them from here.
public enum EncodingDefaults {
    /// x264 preset.
    public static let preset: X264Preset = .veryfast
    /// Target segment duration, seconds.
    public static let segmentDuration: Double = 4
    /// Segment durations accepted from a job or a command line, seconds.
    public static let segmentDurations: ClosedRange<Double> = 1...60
    /// Seconds of pre-roll a resumed transcode encodes and drops before its first segment
    /// (measured: Benchmarks/RESULTS.md, "Crash-resume").
    public static let resumePreRollSeconds: Double = 6
    /// Rate control of every rung (see `RateControl`; chosen by measurement: Benchmarks/RESULTS.md,
    /// "Capped constant quality: the decisions").
    public static let rateControl: RateControl = .cappedCRF
    /// Segment container.
    public static let segmentFormat: SegmentFormat = .fmp4
    /// Rungs to produce: `auto` (1080p, 720p, 480p, 360p, 240p where the source allows, each at
    /// its default bitrate, and two video bit rates for any source; chosen by measurement:
    /// Benchmarks/RESULTS.md, "Capped constant quality: the decisions").
    public static let ladder = Ladder.auto

    /// AAC bitrate of the audio rendition, bits/s.
    public static let audioBitrate = 128_000
    /// AAC bitrates accepted for the audio rendition and the audio-only variant, bits/s.
    public static let audioBitrates: ClosedRange<Int> = 32_000...320_000

    /// "between 32k and 320k": `audioBitrates`, for messages.
    public static var audioBitratesText: String {
        "between \(audioBitrates.lowerBound / 1000)k and \(audioBitrates.upperBound / 1000)k"
    }

    /// "between 1 and 60 seconds": `segmentDurations`, for messages.
    public static var segmentDurationsText: String {
        "between \(Int(segmentDurations.lowerBound)) and \(Int(segmentDurations.upperBound)) seconds"
    }
}
