import CFFmpeg
import HLSCore

/// The pre-pass of `TranscodeOptions.collapseGaps`: finds the holes in the video's timestamps
/// before the transcode starts, so that every stream can be moved past them packet by packet
/// (the audio of a hole is read before the video frame that shows there was one).
///
/// Cost: one demux of the file, video packets only, nothing decoded: the time it takes to read
/// the file from disk, and 16 bytes per video frame.
enum GapScan {
    /// The holes of `videoStream` in `input` (opened afresh; this pass reads it to the end), in
    /// that stream's ticks after `TimestampContinuity` (as the main pass sees them), by the rule
    /// the main pass fills them with (`DecodeLoop.fillGap`).
    /// - Throws: `TranscodeError.cancelled`/`.timeLimit` when `cancel` is raised, `.io` for a read
    ///   error. A file that ends early is scanned as far as it reads.
    static func holes(input: InputFile, videoStream: Int, frameDuration: Int64, cancel: InterruptFlag) throws -> GapCollapse {
        input.discardAllBut([videoStream])
        let timeBase = input.stream(videoStream).pointee.time_base
        var continuity = TimestampContinuity(timeBase: timeBase)
        let packet = try Packet()
        var frames: [GapCollapse.FrameTime] = []
        while true {
            try cancel.check(reading: input.path)
            let more: Bool
            do { more = try input.read(into: packet) } catch let error as LibAVError {
                try cancel.check(reading: input.path)
                if error.code == hlsify_averror(EIO) { throw TranscodeError.io("reading \(input.path): \(error.reason)") }
                break  // a truncated file: as the main pass, what could be read
            }
            guard more else { break }
            guard packet.streamIndex == videoStream else { continue }
            _ = continuity.keep(packet)
            guard let time = packet.presentationOrDecodeTime else { continue }
            frames.append(.init(time: time, duration: packet.duration > 0 ? packet.duration : frameDuration))
        }
        return GapCollapse.holes(in: frames, nominalDuration: frameDuration,
                                 minimumHole: av_rescale_q(DecodeLoop.reportedHole, MediaTimeline.microseconds, timeBase))
    }
}
