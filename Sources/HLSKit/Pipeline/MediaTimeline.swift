import CFFmpeg

/// Maps source timestamps to the output timeline shared by every rendition.
///
/// Output time = source time − first video timestamp + `offsetSeconds`. The constant offset keeps
/// decode timestamps of B-frame streams positive, so no muxer shifts one track on its own and audio
/// and video (written by separate muxers) stay in sync. Segment boundaries count from the first
/// video timestamp.
struct MediaTimeline {
    /// Where the first video frame lands on the output timeline (as Apple's segmenter: 10 s).
    static let offsetSeconds: Int64 = 10

    let videoTimeBase: AVRational
    let firstVideoTimestamp: Int64
    let segments: SegmentTimeline

    static let microseconds = AVRational(num: 1, den: 1_000_000)

    /// Offset in video time-base ticks.
    var offsetTicks: Int64 {
        av_rescale_q(Self.offsetSeconds * 1_000_000, Self.microseconds, videoTimeBase)
    }

    /// Microseconds after the first video frame for a source timestamp in `timeBase`.
    func relativeMicroseconds(_ timestamp: Int64, timeBase: AVRational) -> Int64 {
        av_rescale_q(timestamp, timeBase, Self.microseconds) - av_rescale_q(firstVideoTimestamp, videoTimeBase, Self.microseconds)
    }

    /// Output presentation timestamp (video time base) for a source video timestamp.
    func outputVideoTimestamp(_ timestamp: Int64) -> Int64 {
        timestamp - firstVideoTimestamp + offsetTicks
    }

    /// Microseconds after the first video frame for an output video timestamp.
    func microseconds(ofOutputVideo timestamp: Int64) -> Int64 {
        av_rescale_q(timestamp - offsetTicks, videoTimeBase, Self.microseconds)
    }

    func seconds(ofOutputVideo timestamp: Int64) -> Double {
        Double(microseconds(ofOutputVideo: timestamp)) / 1_000_000
    }

    func seconds(ticks: Int64) -> Double {
        Double(av_rescale_q(ticks, videoTimeBase, Self.microseconds)) / 1_000_000
    }
}
