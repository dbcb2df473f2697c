import CFFmpeg

/// An added audio file (`AudioTrackFile`) read in lockstep with the video: the decode loop asks
/// it for audio up to a little past the video's position, so the file is never read further
/// ahead than the encoders need. Its first decoded sample lands on the video's first frame; a
/// jump back in its clock (two recordings joined) is closed up as the source's (`TimestampContinuity`).
/// Runs on the decoding thread; owns its demuxer, decoder, packet and frame.
final class AudioFileReader {
    let path: String
    let stream: Int
    let timeBase: AVRational
    /// The source sample rate (the rendition resamples to 44.1 or 48 kHz).
    let sampleRate: Int
    /// The first decoded frame's timestamp: the origin of this file's timeline.
    var firstTimestamp: Int64 { origin ?? 0 }
    private let input: InputFile
    private let decoder: MediaDecoder
    private let packet: Packet
    private let frame: Frame
    private let cancel: InterruptFlag
    private let maxCorruptPackets: Int
    private let maxDuration: Double
    /// The first decoded frame's timestamp, once there is one.
    private var origin: Int64?
    /// Decoded and not yet handed over.
    private var held: [Frame] = []
    private var corrupt = 0
    private var continuity: TimestampContinuity
    /// The file is read to its end and every decoded frame handed over.
    var ended: Bool { drained && held.isEmpty }
    /// The decoder is drained.
    private var drained = false
    private(set) var warnings: [String] = []

    /// Takes `input`'s best audio stream (the file opened and its header checked) and decodes up
    /// to its first frame.
    /// - Throws: `TranscodeError.invalidInput` when the file has no audio stream or none of its
    ///   audio can be decoded; `.cancelled`/`.timeLimit`; `.io` for a read error.
    init(input: InputFile, limits: InputLimits, cancel: InterruptFlag) throws {
        path = input.path
        self.input = input
        self.cancel = cancel
        maxCorruptPackets = limits.maxCorruptPackets
        maxDuration = limits.maxDuration
        guard let stream = input.bestStream(AVMEDIA_TYPE_AUDIO) else {
            throw TranscodeError.invalidInput("\(input.path): rejected: no audio stream in this audio file")
        }
        self.stream = stream
        input.discardAllBut([stream])
        timeBase = input.stream(stream).pointee.time_base
        sampleRate = Int(input.stream(stream).pointee.codecpar.pointee.sample_rate)
        continuity = TimestampContinuity(timeBase: timeBase)
        do {
            decoder = try MediaDecoder(stream: input.stream(stream))
        } catch let error as LibAVError {
            throw TranscodeError.invalidInput("\(input.path): rejected: the audio stream cannot be decoded (\(error.reason))")
        }
        packet = try Packet()
        frame = try Frame()
        while held.isEmpty, !drained { try readOne() }
        guard origin != nil else {
            throw TranscodeError.invalidInput("\(input.path): rejected: no audio could be decoded from this audio file")
        }
    }

    /// The next decoded frame (nil at the file's end); valid until the next call.
    func next() throws -> Frame? {
        while held.isEmpty, !drained { try readOne() }
        return held.isEmpty ? nil : held.removeFirst()
    }

    /// Reads one packet of the stream (draining the decoder at the end) into `held`.
    private func readOne() throws {
        try cancel.check(reading: path)
        let more: Bool
        do {
            more = try input.read(into: packet)
        } catch let error as LibAVError {
            try cancel.check(reading: path)
            if error.code == hlsify_averror(EIO) { throw TranscodeError.io("reading \(path): \(error.reason)") }
            warnings.append("\(path): the audio file ends early (\(error.reason)); it is padded with silence")
            more = false
        }
        if !more {
            try decode(nil)
            drained = true
        } else if packet.streamIndex == stream {
            _ = continuity.keep(packet)
            try decode(packet)
        }
    }

    private func decode(_ packet: Packet?) throws {
        try decoder.decode(packet, into: frame, corrupt: noteCorrupt) {
            let stamp = frame.timestamp
            if origin == nil { origin = stamp == noPTS ? 0 : stamp }
            if let origin, stamp != noPTS, Double(stamp - origin) * Double(timeBase.num) / Double(timeBase.den) > maxDuration {
                throw TranscodeError.invalidInput(String(format: "%@: rejected: the audio runs past the duration limit of %.0f s", path, maxDuration))
            }
            held.append(try Frame(referencing: frame))
        }
    }

    private func noteCorrupt(_ error: LibAVError) throws {
        corrupt += 1
        if corrupt == 1 { warnings.append("\(path): corrupt audio data skipped: \(error)") }
        if corrupt > maxCorruptPackets {
            throw TranscodeError.invalidInput("\(path): rejected: more than \(maxCorruptPackets) corrupt packets (\(error))")
        }
    }
}
