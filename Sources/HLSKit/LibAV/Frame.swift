import CFFmpeg

/// An owned `AVFrame`; `deinit` frees it (dropping its buffer references).
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws {
        guard let frame = av_frame_alloc() else { throw LibAVError.allocation("av_frame_alloc") }
        pointer = frame
    }

    /// A new frame that references the same (reference-counted) buffers as `other`: no pixel copy.
    convenience init(referencing other: Frame) throws {
        try self.init()
        try check(av_frame_ref(pointer, other.pointer), "av_frame_ref")
    }

    /// A writable video frame with its own buffers.
    convenience init(width: Int, height: Int, format: AVPixelFormat) throws {
        try self.init()
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer(\(width)x\(height))")
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var format: Int32 { pointer.pointee.format }
    var sampleCount: Int { Int(pointer.pointee.nb_samples) }

    /// Best-effort presentation timestamp, in the decoder's packet time base.
    var timestamp: Int64 {
        let best = pointer.pointee.best_effort_timestamp
        return best != noPTS ? best : pointer.pointee.pts
    }

    /// Moves the frame's presentation timestamps `ticks` earlier.
    func moveTimestamps(back ticks: Int64) {
        if pointer.pointee.pts != noPTS { pointer.pointee.pts -= ticks }
        if pointer.pointee.best_effort_timestamp != noPTS { pointer.pointee.best_effort_timestamp -= ticks }
    }

    func makeWritable() throws { try check(av_frame_make_writable(pointer), "av_frame_make_writable") }

    /// Makes the frame's buffers its own before they are overwritten whole: when another holder
    /// references them, new buffers of the same size and format are allocated (nothing is copied,
    /// unlike `makeWritable`).
    /// - Throws: `LibAVError` from `av_frame_get_buffer`.
    func takeFreshBuffersIfShared() throws {
        guard av_frame_is_writable(pointer) == 0 else { return }
        let (width, height, format) = (pointer.pointee.width, pointer.pointee.height, pointer.pointee.format)
        av_frame_unref(pointer)
        pointer.pointee.width = width
        pointer.pointee.height = height
        pointer.pointee.format = format
        try check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer(\(width)x\(height))")
    }
    func unref() { av_frame_unref(pointer) }

    /// The frame's data pointers as the planes libav's audio calls take (planar audio: one per channel).
    func withPlanes<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointer(to: &pointer.pointee.data) { tuple in
            try tuple.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8, body)
        }
    }

    /// Plane `index` (0 luma, 1 and 2 chroma) of a planar picture with its line size in bytes.
    /// Valid while the frame holds its buffers.
    func plane(_ index: Int) -> (pointer: UnsafeMutablePointer<UInt8>, stride: Int) {
        let frame = pointer.pointee
        switch index {
        case 0: return (frame.data.0!, Int(frame.linesize.0))
        case 1: return (frame.data.1!, Int(frame.linesize.1))
        default: return (frame.data.2!, Int(frame.linesize.2))
        }
    }
}
