/// What the engine accepts from an untrusted upload. Checked from the container and stream headers
/// before any work starts, and again while decoding (a stream that grows mid-file is caught too).
public struct InputLimits: Sendable, Equatable {
    /// Containers the demuxer may be (libavformat demuxer names). Never playlists (`hls`),
    /// `concat`, image sequences (`image2`), `lavfi`, `tee`, `data` or network formats.
    public var containers: [String] = InputLimits.uploadContainers
    /// Largest picture side in pixels.
    public var maxDimension: Int = 8192
    /// Largest picture area in pixels (36 Mpx: 8K UHD is 35.4 Mpx).
    public var maxPixels: Int = 36_000_000
    /// Longest accepted duration in seconds (6 hours).
    public var maxDuration: Double = 6 * 3600
    /// Most streams a container may hold.
    public var maxStreams: Int = 32
    /// Bytes libavformat may read while probing the format and streams.
    public var probeBytes: Int = 20_000_000
    /// Media time libavformat may read while analysing streams, in seconds.
    public var analyzeSeconds: Double = 15
    /// Wall-clock limit for a whole transcode in seconds; nil derives it from the duration:
    /// 120 s + 20 × the source duration (far above a 2-core machine's veryfast speed).
    public var timeLimit: Double?
    /// Corrupt packets skipped before the transcode fails.
    public var maxCorruptPackets: Int = 100
    /// Largest subtitle (SRT) file accepted, in bytes; a larger one is refused before it is read
    /// (see `defaultMaxSubtitleBytes`).
    public var maxSubtitleBytes: Int = InputLimits.defaultMaxSubtitleBytes
    /// Largest input object fetched from a bucket, in bytes (32 GiB: six hours, the longest
    /// accepted duration, at 12 Mb/s); a larger one is refused by its size before it is read.
    public var maxObjectBytes: Int64 = 32 << 30

    /// The limits for untrusted uploads, each at its default above.
    public init() {}

    /// 10 MiB. A 3-hour lecture's SRT is under 1 MB even with a two-line cue every 1.5 s; the
    /// longest accepted source (`maxDuration`, 6 h) at that density is about 1.8 MB in UTF-8 and
    /// 7.3 MB in UTF-32 (accepted too), so no genuine file comes near it, while 10 MiB is 34 hours
    /// of such cues. Parsing holds about 5 bytes of memory per byte of SRT (measured: 10 MiB adds
    /// about 55 MB to the peak), so a hostile file costs at most that.
    public static let defaultMaxSubtitleBytes = 10 << 20

    /// Upload containers: MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF/WMV, MXF,
    /// and common audio files.
    public static let uploadContainers = [
        "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "mpeg", "flv", "ogg",
        "asf", "mxf", "wav", "w64", "mp3", "aac", "flac", "caf", "aiff", "amr",
    ]

    /// The wall-clock limit for a source of `duration` seconds.
    func deadline(forDuration duration: Double?) -> Double {
        timeLimit ?? (120 + 20 * min(maxDuration, max(0, duration ?? maxDuration)))
    }
}
