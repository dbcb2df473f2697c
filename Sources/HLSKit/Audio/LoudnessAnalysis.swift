import CFFmpeg

/// The measuring pass of loudness normalisation: decodes only audio (the video packets are
/// skipped by the demuxer), converted as the audio renditions will get it (stereo, their sample
/// rate), into one EBU R128 meter per stream measured.
///
/// Cost: one demux of the file and one decode per audio stream measured, no video decode:
/// seconds for an hour of lecture (the demuxer still reads the video's bytes from disk).
enum LoudnessAnalysis {
    /// Each stream's figures, by stream index.
    /// - Parameters:
    ///   - input: the file opened afresh (this pass reads it to the end).
    ///   - streams: the audio streams to measure, each with the sample rate its rendition encodes at.
    ///   - seconds: measure only this much of each stream from its first packet (an added file is
    ///     cut at the video's end); nil: to the end.
    ///   - cancel: polled between packets.
    /// - Throws: `TranscodeError.cancelled`/`.timeLimit` when `cancel` is raised, `LibAVError`
    ///   from a decoder or resampler, `TranscodeError.io` for a read error.
    static func measure(input: InputFile, streams: [(index: Int, sampleRate: Int)], seconds: Double? = nil, maxCorruptPackets: Int,
                        cancel: InterruptFlag) throws -> [Int: LoudnessFigures] {
        input.discardAllBut(Set(streams.map(\.index)))
        var meters: [Int: StreamMeter] = [:]
        for stream in streams {
            meters[stream.index] = try StreamMeter(stream: input.stream(stream.index), sampleRate: stream.sampleRate)
        }
        let packet = try Packet(), frame = try Frame()
        var corrupt = 0
        func note(_: LibAVError) throws {
            corrupt += 1
            if corrupt > maxCorruptPackets { throw TranscodeError.invalidInput("\(input.path): rejected: more than \(maxCorruptPackets) corrupt packets") }
        }
        while true {
            try cancel.check(reading: input.path)
            let more: Bool
            do { more = try input.read(into: packet) } catch let error as LibAVError {
                try cancel.check(reading: input.path)
                if error.code == hlsify_averror(EIO) { throw TranscodeError.io("reading \(input.path): \(error.reason)") }
                break  // a truncated file: measure what could be read, as the main pass encodes it
            }
            guard more else { break }
            guard let meter = meters[packet.streamIndex], !meter.done else { continue }
            if let seconds, packet.pts != noPTS {
                let base = input.stream(packet.streamIndex).pointee.time_base
                let first = meter.firstPTS ?? packet.pts
                meter.firstPTS = first
                if Double(packet.pts - first) * Double(base.num) / Double(base.den) > seconds {
                    meter.done = true
                    if meters.values.allSatisfy(\.done) { break }
                    continue
                }
            }
            try meter.decode(packet, into: frame, corrupt: note)
        }
        var figures: [Int: LoudnessFigures] = [:]
        for (index, meter) in meters {
            try meter.decode(nil, into: frame, corrupt: note)
            figures[index] = try meter.finish()
        }
        return figures
    }

    /// One stream's decoder, resampler and meter.
    private final class StreamMeter {
        let decoder: MediaDecoder
        let resampler: Resampler
        let meter: LoudnessMeter
        /// The stream's first packet's timestamp, and whether enough of it is measured.
        var firstPTS: Int64?
        var done = false

        init(stream: UnsafeMutablePointer<AVStream>, sampleRate: Int) throws {
            decoder = try MediaDecoder(stream: stream)
            resampler = try Resampler(sampleRate: sampleRate)
            meter = try LoudnessMeter(sampleRate: sampleRate)
        }

        /// Decodes `packet` (nil drains) and meters every frame; corrupt data calls `corrupt`.
        func decode(_ packet: Packet?, into frame: Frame, corrupt: (LibAVError) throws -> Void) throws {
            try decoder.decode(packet, into: frame, corrupt: corrupt) {
                try resampler.convert(frame) { planes, count in try meter.add(planes, count: count) }
            }
        }

        func finish() throws -> LoudnessFigures {
            try resampler.convert(nil) { planes, count in try meter.add(planes, count: count) }
            return meter.figures
        }
    }
}
