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
        let read: Int32 = withUnsafeMutablePointer(to: &frame.pointer.pointee.data) { tuple in
            tuple.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) { planes in
                av_audio_fifo_peek(fifo, planes, Int32(count))
            }
        }
        try check(read, "av_audio_fifo_peek")
        return Int(read)
    }

    /// Moves up to `count` samples into `frame` (which must have buffers for that many).
    func read(into frame: Frame, count: Int) throws -> Int {
        let read: Int32 = withUnsafeMutablePointer(to: &frame.pointer.pointee.data) { tuple in
            tuple.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) { planes in
                av_audio_fifo_read(fifo, planes, Int32(count))
            }
        }
        try check(read, "av_audio_fifo_read")
        return Int(read)
    }
}
