import CFFmpeg

/// A growable queue of planar float stereo samples (`AVAudioFifo`); `deinit` frees it.
final class AudioFIFO {
    private let fifo: OpaquePointer
    let channels = 2

    init() throws {
        guard let fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, 4096) else {
            throw LibAVError.allocation("av_audio_fifo_alloc")
        }
        self.fifo = fifo
    }

    deinit { av_audio_fifo_free(fifo) }

    var count: Int { Int(av_audio_fifo_size(fifo)) }

    /// Appends `count` samples from planar channel pointers.
    func write(_ planes: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int) throws {
        let written = av_audio_fifo_write(fifo, planes, Int32(count))
        if written < count { throw LibAVError(call: "av_audio_fifo_write", code: written < 0 ? written : hlsify_averror(ENOMEM)) }
    }

    /// Appends `count` samples of silence.
    func writeSilence(count: Int) throws {
        var remaining = count
        var zeros = [Float](repeating: 0, count: 4096)
        try zeros.withUnsafeMutableBytes { raw in
            var planes: [UnsafeMutableRawPointer?] = [raw.baseAddress, raw.baseAddress]
            while remaining > 0 {
                let chunk = min(remaining, 4096)
                try planes.withUnsafeMutableBufferPointer { try write($0.baseAddress!, count: chunk) }
                remaining -= chunk
            }
        }
    }

    /// Removes `count` samples from the front.
    func drain(_ count: Int) {
        av_audio_fifo_drain(fifo, Int32(count))
    }

    /// Copies up to `count` samples from the front into `frame` without removing them.
    func peek(into frame: Frame, count: Int) throws -> Int {
        try transfer(into: frame, count: count, call: "av_audio_fifo_peek", av_audio_fifo_peek)
    }

    /// Moves up to `count` samples into `frame` (which must have buffers for that many).
    func read(into frame: Frame, count: Int) throws -> Int {
        try transfer(into: frame, count: count, call: "av_audio_fifo_read", av_audio_fifo_read)
    }

    /// `frame`'s planes handed to `function` (`av_audio_fifo_peek` or `_read`) for `count` samples.
    private func transfer(into frame: Frame, count: Int, call: String,
                          _ function: (OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32) throws -> Int {
        let done = frame.withPlanes { function(fifo, $0, Int32(count)) }
        try check(done, call)
        return Int(done)
    }
}
