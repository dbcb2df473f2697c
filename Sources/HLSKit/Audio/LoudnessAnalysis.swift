import CFFmpeg

/// The measuring pass of loudness normalisation: decodes only the source's audio (the video
/// packets are skipped by the demuxer), converted as the audio renditions will get it (stereo,
/// their sample rate), into an EBU R128 meter.
///
/// Cost: one demux of the file and one audio decode, no video decode: seconds for an hour of
/// lecture (the demuxer still reads the video's bytes from disk).
enum LoudnessAnalysis {
    /// The source audio's figures.
    /// - Parameters:
    ///   - input: the source opened afresh (this pass reads it to the end).
    ///   - stream: its audio stream.
    ///   - cancel: polled between packets.
    /// - Throws: `TranscodeError.cancelled`/`.timeLimit` when `cancel` is raised, `LibAVError`
    ///   from the decoder or resampler, `TranscodeError.io` for a read error.
    static func measure(input: InputFile, stream: Int, sampleRate: Int, maxCorruptPackets: Int,
                        cancel: InterruptFlag) throws -> LoudnessFigures {
        input.discardAllBut([stream])
        let decoder = try MediaDecoder(stream: input.stream(stream))
        let resampler = try Resampler(sampleRate: sampleRate)
        let meter = try LoudnessMeter(sampleRate: sampleRate)
        let packet = try Packet(), frame = try Frame()
        var corrupt = 0
        func decode(_ packet: Packet?) throws {
            do { try decoder.send(packet) } catch is LibAVError {
                corrupt += 1
                if corrupt > maxCorruptPackets { throw TranscodeError.invalidInput("\(input.path): rejected: more than \(maxCorruptPackets) corrupt packets") }
                return
            }
            while true {
                let got: Bool
                do { got = try decoder.receive(into: frame) } catch is LibAVError { corrupt += 1; break }
                guard got else { break }
                try resampler.convert(frame) { planes, count in try meter.add(planes, count: count) }
            }
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
            if packet.streamIndex == stream { try decode(packet) }
        }
        try decode(nil)
        try resampler.convert(nil) { planes, count in try meter.add(planes, count: count) }
        return meter.figures
    }
}
